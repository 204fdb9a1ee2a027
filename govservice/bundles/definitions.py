"""Reading and validating bundle files (`items/bundles/*.toml`).

A bundle (一件事) names service items of the catalogue applied for together:

- `code`, `name`, `summary`;
- `members`: item codes, in the order their cases are made;
- `aliases`: a member's field answered by another field of the one form (e.g. the food
  licence's 经营场所 is the business's 经营场所), so it is asked once;
- `[[depends]]`: `item` waits for `on` to issue its certificate, which it receives as
  `material` (免提交), with `fill` mapping its form fields to the certificate's fields.

Fields of the same name are asked once; materials of the same code are given once.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

CODE = re.compile(r"^[a-z][a-z0-9-]{2,63}$")
KEYS = {"code", "name", "name_en", "summary", "summary_en", "members", "aliases", "depends"}


class BundleFileError(ValueError):
    def __init__(self, path, where: str, problem: str):
        super().__init__(f"{Path(path).name}: {where}: {problem}")


@dataclass(frozen=True)
class Dependency:
    item: str
    on: str
    material: str
    fill: dict = field(default_factory=dict)


@dataclass(frozen=True)
class BundleDefinition:
    code: str
    name: str
    summary: str
    members: tuple[str, ...]
    aliases: dict
    depends: tuple[Dependency, ...]
    name_en: str = ""  # shown in English mode
    summary_en: str = ""

    def dependency_of(self, item_code: str) -> Dependency | None:
        return next((d for d in self.depends if d.item == item_code), None)


def read_bundles(directory: Path, items: dict) -> dict[str, BundleDefinition]:
    """Every bundle file, checked against the catalogue's current items (`items`: code -> item)."""
    bundles = {}
    for path in sorted(directory.glob("*.toml")):
        try:
            with open(path, "rb") as fh:
                raw = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise BundleFileError(path, "(file)", f"not valid TOML: {exc}") from None
        bundle = validate(path, raw, items)
        if bundle.code in bundles:
            raise BundleFileError(path, "code", "duplicate")
        bundles[bundle.code] = bundle
    return bundles


def validate(path, raw: dict, items: dict) -> BundleDefinition:
    extra = sorted(set(raw) - KEYS)
    if extra:
        raise BundleFileError(path, extra[0], "unknown field (a typo?)")
    if not isinstance(raw.get("code"), str) or not CODE.match(raw["code"]):
        raise BundleFileError(path, "code", "must be lower-case letters, digits and hyphens")
    for key in ("name", "summary", "name_en", "summary_en"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise BundleFileError(
                path, key, "missing" + (": the English text, shown in English mode" if "_en" in key else "")
            )
    members = raw.get("members")
    if not isinstance(members, list) or len(members) < 2 or len(set(members)) != len(members):
        raise BundleFileError(path, "members", "a bundle needs two or more different items")
    for code in members:
        if code not in items:
            raise BundleFileError(path, "members", f"unknown item {code!r}")
        if items[code].audience == "enterprise":
            raise BundleFileError(path, "members", f"{code!r} is applied for by an enterprise only")
    names = {f["name"] for code in members for f in items[code].fields}
    aliases = raw.get("aliases", {})
    for member_field, answered_by in aliases.items():
        if member_field not in names or answered_by not in names:
            raise BundleFileError(path, f"aliases.{member_field}", "names no field of the members")
    depends = []
    for i, spec in enumerate(raw.get("depends", [])):
        where = f"depends[{i}]"
        item, on = spec.get("item"), spec.get("on")
        if item not in members or on not in members or item == on:
            raise BundleFileError(path, where, "item and on must be two members")
        if members.index(on) > members.index(item):
            raise BundleFileError(path, where, "a member can only wait for one listed before it")
        if items[on].result_type is None:
            raise BundleFileError(path, f"{where}.on", "issues no certificate to wait for")
        material = next((m for m in items[item].materials if m["code"] == spec.get("material")), None)
        if material is None:
            raise BundleFileError(path, f"{where}.material", f"not a material of {item!r}")
        fields = {f["name"] for f in items[item].fields}
        fill = spec.get("fill", {})
        for target in fill:
            if target not in fields:
                raise BundleFileError(path, f"{where}.fill.{target}", f"not a field of {item!r}")
        depends.append(Dependency(item, on, material["code"], dict(fill)))
    return BundleDefinition(
        raw["code"],
        raw["name"],
        raw["summary"],
        tuple(members),
        dict(aliases),
        tuple(depends),
        name_en=raw["name_en"],
        summary_en=raw["summary_en"],
    )
