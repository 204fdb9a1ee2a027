"""Reading and validating service-item files (`items/*.toml`).

Every problem names the file and the field, so a broken item never half-loads.
"""
from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path

FIELD_TYPES = {"text", "textarea", "choice", "decimal", "integer", "date", "id_number", "credit_code", "phone"}
AUDIENCES = {"person", "enterprise", "both"}
PREFILL_SOURCES = {"person.name", "person.id_number", "person.phone"}
REQUIRED = ("code", "name", "kind", "department", "audience", "time_limit", "guide", "fields", "workflow")


class ItemFileError(ValueError):
    def __init__(self, path: Path | str, field: str, problem: str):
        super().__init__(f"{Path(path).name}: {field}: {problem}")
        self.path, self.field, self.problem = str(path), field, problem


def read_departments(directory: Path) -> dict:
    with open(directory / "departments.toml", "rb") as fh:
        return tomllib.load(fh)


def read_items(directory: Path, *, departments: set[str], certificate_types: set[str]) -> list[dict]:
    items, seen = [], {}
    for path in sorted(directory.glob("*.toml")):
        if path.name == "departments.toml":
            continue
        try:
            with open(path, "rb") as fh:
                item = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ItemFileError(path, "(file)", f"not valid TOML: {exc}") from None
        validate_item(path, item, departments=departments, certificate_types=certificate_types)
        if item["code"] in seen:
            raise ItemFileError(path, "code", f"duplicate of {seen[item['code']]}")
        seen[item["code"]] = path.name
        items.append(item)
    return items


def validate_item(path, item: dict, *, departments: set[str], certificate_types: set[str]) -> None:
    for key in REQUIRED:
        if key not in item:
            raise ItemFileError(path, key, "missing")
    if item["department"] not in departments:
        raise ItemFileError(path, "department", f"unknown department {item['department']!r}")
    if item["audience"] not in AUDIENCES:
        raise ItemFileError(path, "audience", f"must be one of {sorted(AUDIENCES)}")
    result = item.get("result")
    if result and result not in certificate_types:
        raise ItemFileError(path, "result", f"unknown certificate type {result!r}")
    limits = item["time_limit"]
    for key in ("statutory_days", "commitment_days"):
        if not isinstance(limits.get(key), int) or limits[key] <= 0:
            raise ItemFileError(path, f"time_limit.{key}", "must be a positive number of working days")
    if limits["commitment_days"] > limits["statutory_days"]:
        raise ItemFileError(path, "time_limit.commitment_days", "longer than the statutory limit")
    if not 1 <= item.get("level_of_assurance", 1) <= 3:
        raise ItemFileError(path, "level_of_assurance", "must be 1, 2 or 3")
    names = set()
    for i, spec in enumerate(item["fields"]):
        where = f"fields[{i}]"
        for key in ("name", "label", "type"):
            if not spec.get(key):
                raise ItemFileError(path, f"{where}.{key}", "missing")
        if spec["type"] not in FIELD_TYPES:
            raise ItemFileError(path, f"{where}.type", f"unknown type {spec['type']!r}")
        if spec["type"] == "choice" and not spec.get("choices"):
            raise ItemFileError(path, f"{where}.choices", "a choice field needs choices")
        if spec.get("prefill") and spec["prefill"] not in PREFILL_SOURCES:
            raise ItemFileError(path, f"{where}.prefill", f"unknown source {spec['prefill']!r}")
        if spec["name"] in names:
            raise ItemFileError(path, f"{where}.name", "duplicate field name")
        names.add(spec["name"])
    for i, material in enumerate(item.get("materials", [])):
        for key in ("code", "name"):
            if not material.get(key):
                raise ItemFileError(path, f"materials[{i}].{key}", "missing")
    for i, step in enumerate(item["workflow"]):
        if step.get("mode") not in {"sequential", "joint"}:
            raise ItemFileError(path, f"workflow[{i}].mode", "must be sequential or joint")
        for dept in step.get("departments", []):
            if dept not in departments:
                raise ItemFileError(path, f"workflow[{i}].departments", f"unknown department {dept!r}")
    for target, source in item.get("certificate", {}).items():
        kind = source.split(":", 1)[0].split(".", 1)[0]
        if kind not in {"form", "case", "generated", "const"}:
            raise ItemFileError(path, f"certificate.{target}", f"unknown source {source!r}")
        if kind == "form" and source.split(".", 1)[1] not in names:
            raise ItemFileError(path, f"certificate.{target}", f"no form field {source!r}")


def digest(item: dict) -> str:
    return hashlib.sha256(json.dumps(item, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
