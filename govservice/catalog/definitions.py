"""Reading and validating service-item files (`items/*.toml`).

Every problem names the file and the field, so a broken item never half-loads: the whole
sync stops at the first bad file and nothing is written.

An item file holds one service item (政务服务事项) with its standard guide (办事指南):

- identity: `code`, `name`, `kind` (事项类型), `department`, `joint_departments`, `audience`
  (person | enterprise | both), `level_of_assurance` (1-3), `life_events`, `keywords`
  (words people search with: synonyms, colloquial names);
- `result`: a certificate type code from `licenses/`, or "none" when the result is a decision
  letter named by `result_name`;
- `[time_limit]`: `statutory_days` (法定时限) and `commitment_days` (承诺时限), working days;
- `[guide]`: `legal_basis` (设定依据), `conditions` (受理条件), `fee`, `place`, `hours`,
  `contact`, optional `result_delivery`, `process` and `[[guide.faq]]`;
- `[[materials]]`: `code`, `name`, `required`, `form` (原件/复印件/...), `copies`, optional
  `replaceable_by` (a certificate type the applicant may hold instead: 免提交), `types`,
  `max_mb`, `note`;
- `[[fields]]`: the application form: `name`, `label`, `type`, validation (`required`,
  `max_length`, `min_length`, `min`, `max`, `pattern` + `pattern_message`, `choices`,
  `not_future`), and `prefill` (where the value comes from: the login, the population
  registry or the legal-person registry) with `readonly`;
- `[[workflow]]`: review steps, `mode = "sequential" | "joint"` and `departments`;
- `[certificate]`: what the issued certificate carries;
- `[licence]` (an item that changes, renews or cancels a licence held: 变更、延续、注销): `type`
  (a certificate type with a `number_field`), `field` (the form field holding its number) and
  `fill` (form field = certificate field, filled from the licence the applicant picks from
  我的证照); a number typed by hand must name a licence of that type the applicant holds;
- `[credit_check]` (失信联合惩戒 at acceptance): `rule` for a listed applicant or enterprise,
  `unavailable` for a credit registry that does not answer, each "refuse", "warn" or "note"
  (applied by `window/credit_checks.py`).
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path

FIELD_TYPES = {"text", "textarea", "choice", "decimal", "integer", "date", "id_number", "credit_code", "phone", "email"}
AUDIENCES = {"person", "enterprise", "both"}
KINDS = {"行政许可", "行政确认", "行政给付", "行政裁决", "行政奖励", "其他行政权力", "公共服务"}
MATERIAL_FORMS = {"原件", "复印件", "原件和复印件", "原件或复印件", "电子件"}
FILE_TYPES = {"pdf", "jpg", "png"}
NO_CERTIFICATE = "none"

#: Life events (主题服务) an item can be found under, and who they concern.
#: Files of items/ that are not service items.
NOT_ITEMS = ("departments.toml", "synonyms.toml")

LIFE_EVENTS = {
    "出生": "person",
    "上学": "person",
    "就业": "person",
    "失业": "person",
    "社会保障": "person",
    "居住": "person",
    "婚育": "person",
    "退休": "person",
    "开办企业": "enterprise",
    "经营许可": "enterprise",
    "工程建设": "enterprise",
    "企业注销": "enterprise",
}

#: Pre-fill sources: the signed-in person, the population registry (人口基础信息库), and the
#: legal-person registry (法人基础信息库) for the enterprise the applicant acts for.
PREFILL_SOURCES = {
    "person.name",
    "person.id_number",
    "person.phone",
    "population.name",
    "population.sex",
    "population.ethnicity",
    "population.birth_date",
    "population.household_address",
    "population.household_type",
    "legal_person.name",
    "legal_person.uscc",
    "legal_person.type",
    "legal_person.legal_representative",
    "legal_person.address",
    "legal_person.registered_capital",
    "legal_person.established_on",
    "legal_person.scope",
}

REQUIRED = (
    "code",
    "name",
    "kind",
    "department",
    "audience",
    "result",
    "time_limit",
    "guide",
    "fields",
    "materials",
    "workflow",
)
TOP_LEVEL = set(REQUIRED) | {
    "name_en",
    "keywords_en",
    "joint_departments",
    "level_of_assurance",
    "life_events",
    "keywords",
    "result_name",
    "certificate",
    "credit_check",
}
#: Texts a reader sees, per table: each needs its English twin `<key>_en` (shown in English
#: mode; a list twin has as many entries, a choice's English labels pair with its stored values).
ENGLISH = {
    "": ("result_name",),
    "guide": (
        "legal_basis",
        "conditions",
        "process",
        "fee",
        "place",
        "hours",
        "contact",
        "result_delivery",
        "online_depth",
    ),
    "guide.faq": ("q", "a"),
    "materials": ("name", "note"),
    "fields": ("label", "help", "pattern_message", "choices"),
}
TOP_LEVEL |= {"result_name_en", "licence"}
CREDIT_RULES = ("refuse", "warn", "note")
GUIDE_REQUIRED = ("legal_basis", "conditions", "fee", "place", "hours", "contact")
GUIDE_KEYS = set(GUIDE_REQUIRED) | {"result_delivery", "process", "faq", "online_depth"}
GUIDE_KEYS |= {f"{k}_en" for k in ENGLISH["guide"]}
MATERIAL_KEYS = {"code", "name", "required", "form", "copies", "replaceable_by", "types", "max_mb", "note"}
MATERIAL_KEYS |= {f"{k}_en" for k in ENGLISH["materials"]}
FIELD_KEYS = {
    "name",
    "label",
    "type",
    "required",
    "prefill",
    "readonly",
    "max_length",
    "min_length",
    "min",
    "max",
    "pattern",
    "pattern_message",
    "choices",
    "help",
    "not_future",
} | {f"{k}_en" for k in ENGLISH["fields"]}
CODE = re.compile(r"^[a-z][a-z0-9-]{2,63}$")
NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class ItemFileError(ValueError):
    def __init__(self, path: Path | str, field: str, problem: str):
        super().__init__(f"{Path(path).name}: {field}: {problem}")
        self.path, self.field, self.problem = str(path), field, problem


def read_departments(directory: Path) -> dict:
    """departments.toml; every department and hall needs its English name (`name_en`)."""
    path = directory / "departments.toml"
    with open(path, "rb") as fh:
        org = tomllib.load(fh)
    for kind in ("departments", "halls"):
        for i, spec in enumerate(org.get(kind, [])):
            if not str(spec.get("name_en", "")).strip():
                raise ItemFileError(path, f"{kind}[{i}].name_en", f"missing: the English name of {spec.get('name')!r}")
    return org


def read_items(directory: Path, *, departments: set[str], certificate_types: set[str]) -> list[dict]:
    items, seen = [], {}
    for path in sorted(directory.glob("*.toml")):
        if path.name in NOT_ITEMS:
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


def _text(path, table: dict, key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ItemFileError(path, where, "missing" if value is None else "must be non-empty text")
    return value


def _texts(path, table: dict, key: str, where: str) -> list[str]:
    value = table.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ItemFileError(path, where, "missing" if value is None else "must be a non-empty list of text")
    return value


def _unknown(path, table: dict, allowed: set[str], where: str) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise ItemFileError(path, f"{where}{extra[0]}", "unknown field (a typo?)")


def validate_item(path, item: dict, *, departments: set[str], certificate_types: set[str]) -> None:
    for key in REQUIRED:
        if key not in item:
            raise ItemFileError(path, key, "missing")
    _unknown(path, item, TOP_LEVEL, "")
    if not str(item.get("name_en", "")).strip():
        raise ItemFileError(path, "name_en", "missing: every item needs its English name (shown in English mode)")
    if not isinstance(item["code"], str) or not CODE.match(item["code"]):
        raise ItemFileError(path, "code", "must be lower-case letters, digits and hyphens")
    _text(path, item, "name", "name")
    if item["kind"] not in KINDS:
        raise ItemFileError(path, "kind", f"must be one of {sorted(KINDS)}")
    if item["department"] not in departments:
        raise ItemFileError(path, "department", f"unknown department {item['department']!r}")
    joint = item.get("joint_departments", [])
    for dept in joint:
        if dept not in departments:
            raise ItemFileError(path, "joint_departments", f"unknown department {dept!r}")
        if dept == item["department"]:
            raise ItemFileError(path, "joint_departments", "repeats the lead department")
    if item["audience"] not in AUDIENCES:
        raise ItemFileError(path, "audience", f"must be one of {sorted(AUDIENCES)}")
    result = item["result"]
    if result != NO_CERTIFICATE and result not in certificate_types:
        raise ItemFileError(path, "result", f'unknown certificate type {result!r} (or "none" for a decision letter)')
    if result == NO_CERTIFICATE:
        _text(path, item, "result_name", "result_name")
    for event in item.get("life_events", []):
        if event not in LIFE_EVENTS:
            raise ItemFileError(path, "life_events", f"unknown life event {event!r}")
    if not all(isinstance(k, str) and k.strip() for k in item.get("keywords", [])):
        raise ItemFileError(path, "keywords", "must be a list of text")
    limits = item["time_limit"]
    for key in ("statutory_days", "commitment_days"):
        if not isinstance(limits.get(key), int) or isinstance(limits.get(key), bool) or limits[key] <= 0:
            raise ItemFileError(path, f"time_limit.{key}", "must be a positive number of working days")
    if limits["commitment_days"] > limits["statutory_days"]:
        raise ItemFileError(path, "time_limit.commitment_days", "longer than the statutory limit")
    level = item.get("level_of_assurance", 1)
    if not isinstance(level, int) or not 1 <= level <= 3:
        raise ItemFileError(path, "level_of_assurance", "must be 1, 2 or 3")
    _validate_guide(path, item["guide"])
    names = _validate_fields(path, item["fields"], item["audience"])
    _validate_materials(path, item["materials"], certificate_types)
    _validate_workflow(path, item, departments)
    for target, source in item.get("certificate", {}).items():
        kind = source.split(":", 1)[0].split(".", 1)[0]
        if kind not in {"form", "case", "generated", "const"}:
            raise ItemFileError(path, f"certificate.{target}", f"unknown source {source!r}")
        if kind == "form" and source.split(".", 1)[1] not in names:
            raise ItemFileError(path, f"certificate.{target}", f"no form field {source!r}")
    _validate_credit_check(path, item.get("credit_check"))
    _validate_licence(path, item.get("licence"), names, certificate_types)
    _validate_english(path, item)
    if item.get("certificate") and result == NO_CERTIFICATE:
        raise ItemFileError(path, "certificate", "an item whose result is a decision letter issues no certificate")


def _english_twin(path, table: dict, key: str, where: str) -> None:
    if key not in table:
        if f"{key}_en" in table:
            raise ItemFileError(path, f"{where}{key}_en", f"an English text for a missing {key!r}")
        return
    value, english = table[key], table.get(f"{key}_en")
    if isinstance(value, str):
        if not isinstance(english, str) or not english.strip():
            raise ItemFileError(path, f"{where}{key}_en", f"missing: the English of {value!r} (shown in English mode)")
    elif (
        not isinstance(english, list)
        or len(english) != len(value)
        or not all(isinstance(e, str) and e.strip() for e in english)
    ):
        raise ItemFileError(
            path, f"{where}{key}_en", f"missing or not {len(value)} texts: the English of {key} (shown in English mode)"
        )


def _validate_english(path, item: dict) -> None:
    """Every text a reader sees has its English twin: a missing one is a sync error, named."""
    tables = [("", item, "")]
    guide = item.get("guide", {})
    tables.append(("guide", guide, "guide."))
    tables += [("guide.faq", faq, f"guide.faq[{i}].") for i, faq in enumerate(guide.get("faq", []))]
    tables += [("materials", m, f"materials[{i}].") for i, m in enumerate(item.get("materials", []))]
    tables += [("fields", f, f"fields[{i}].") for i, f in enumerate(item.get("fields", []))]
    for kind, table, where in tables:
        for key in ENGLISH[kind]:
            _english_twin(path, table, key, where)


def _validate_licence(path, spec, names: set[str], certificate_types: set[str]) -> None:
    if spec is None:
        return
    if not isinstance(spec, dict):
        raise ItemFileError(path, "licence", "must be a table")
    _unknown(path, spec, {"type", "field", "fill"}, "licence.")
    if spec.get("type") not in certificate_types:
        raise ItemFileError(path, "licence.type", f"unknown certificate type {spec.get('type')!r}")
    if spec.get("field") not in names:
        raise ItemFileError(path, "licence.field", f"no form field {spec.get('field')!r}")
    fill = spec.get("fill", {})
    if not isinstance(fill, dict) or not all(isinstance(v, str) for v in fill.values()):
        raise ItemFileError(path, "licence.fill", "must map form fields to certificate fields")
    for target in fill:
        if target not in names:
            raise ItemFileError(path, f"licence.fill.{target}", "no such form field")


def _validate_credit_check(path, spec) -> None:
    if spec is None:
        return
    if not isinstance(spec, dict):
        raise ItemFileError(path, "credit_check", "must be a table")
    _unknown(path, spec, {"rule", "unavailable"}, "credit_check.")
    for key in ("rule", "unavailable"):
        if spec.get(key) not in CREDIT_RULES:
            raise ItemFileError(path, f"credit_check.{key}", f"must be one of {list(CREDIT_RULES)}")


def _validate_guide(path, guide) -> None:
    if not isinstance(guide, dict):
        raise ItemFileError(path, "guide", "must be a table")
    _unknown(path, guide, GUIDE_KEYS, "guide.")
    _texts(path, guide, "legal_basis", "guide.legal_basis")
    _texts(path, guide, "conditions", "guide.conditions")
    for key in ("fee", "place", "hours", "contact"):
        _text(path, guide, key, f"guide.{key}")
    if "process" in guide:
        _texts(path, guide, "process", "guide.process")
    for i, faq in enumerate(guide.get("faq", [])):
        _text(path, faq, "q", f"guide.faq[{i}].q")
        _text(path, faq, "a", f"guide.faq[{i}].a")


def _validate_fields(path, fields, audience: str) -> set[str]:
    if not isinstance(fields, list) or not fields:
        raise ItemFileError(path, "fields", "an item needs at least one form field")
    names = set()
    for i, spec in enumerate(fields):
        where = f"fields[{i}]"
        for key in ("name", "label", "type"):
            if not spec.get(key):
                raise ItemFileError(path, f"{where}.{key}", "missing")
        _unknown(path, spec, FIELD_KEYS, f"{where}.")
        if not NAME.match(spec["name"]) or spec["name"] in {"idempotency_key", "csrf_token", "action", "enterprise"}:
            raise ItemFileError(path, f"{where}.name", "must be a lower-case identifier, not a reserved name")
        if spec["type"] not in FIELD_TYPES:
            raise ItemFileError(path, f"{where}.type", f"unknown type {spec['type']!r}")
        if spec["type"] == "choice" and not spec.get("choices"):
            raise ItemFileError(path, f"{where}.choices", "a choice field needs choices")
        prefill = spec.get("prefill")
        if prefill and prefill not in PREFILL_SOURCES:
            raise ItemFileError(path, f"{where}.prefill", f"unknown source {prefill!r}")
        if prefill and prefill.startswith("legal_person.") and audience == "person":
            raise ItemFileError(path, f"{where}.prefill", "a personal item has no enterprise to look up")
        if spec.get("readonly") and not prefill:
            raise ItemFileError(path, f"{where}.readonly", "only a pre-filled field can be read-only")
        if "pattern" in spec:
            try:
                re.compile(spec["pattern"])
            except re.error as exc:
                raise ItemFileError(path, f"{where}.pattern", f"not a regular expression: {exc}") from None
            _text(path, spec, "pattern_message", f"{where}.pattern_message")
        for key in ("min", "max"):
            if key in spec and (
                spec["type"] not in {"decimal", "integer"}
                or isinstance(spec[key], bool)
                or not isinstance(spec[key], (int, float))
            ):
                raise ItemFileError(path, f"{where}.{key}", "only a number field has numeric bounds")
        if spec["name"] in names:
            raise ItemFileError(path, f"{where}.name", "duplicate field name")
        names.add(spec["name"])
    return names


def _validate_materials(path, materials, certificate_types: set[str]) -> None:
    if not isinstance(materials, list):
        raise ItemFileError(path, "materials", "must be a list")
    codes = set()
    for i, material in enumerate(materials):
        where = f"materials[{i}]"
        for key in ("code", "name"):
            if not material.get(key):
                raise ItemFileError(path, f"{where}.{key}", "missing")
        _unknown(path, material, MATERIAL_KEYS, f"{where}.")
        if not NAME.match(material["code"]) or material["code"] in codes:
            raise ItemFileError(path, f"{where}.code", "must be a unique lower-case identifier")
        codes.add(material["code"])
        if not isinstance(material.get("required"), bool):
            raise ItemFileError(path, f"{where}.required", "missing (true or false)")
        if material.get("form") not in MATERIAL_FORMS:
            raise ItemFileError(path, f"{where}.form", f"must be one of {sorted(MATERIAL_FORMS)}")
        copies = material.get("copies")
        if not isinstance(copies, int) or isinstance(copies, bool) or copies < 0:
            raise ItemFileError(path, f"{where}.copies", "must be a number of copies (0 or more)")
        replaceable = material.get("replaceable_by")
        if replaceable is not None and replaceable not in certificate_types:
            raise ItemFileError(path, f"{where}.replaceable_by", f"unknown certificate type {replaceable!r}")
        types = material.get("types", sorted(FILE_TYPES))
        if not types or not set(types) <= FILE_TYPES:
            raise ItemFileError(path, f"{where}.types", f"must be some of {sorted(FILE_TYPES)}")
        max_mb = material.get("max_mb", 1)
        if not isinstance(max_mb, (int, float)) or isinstance(max_mb, bool) or max_mb <= 0:
            raise ItemFileError(path, f"{where}.max_mb", "must be a positive size in MB")


def _validate_workflow(path, item: dict, departments: set[str]) -> None:
    steps = item["workflow"]
    if not isinstance(steps, list) or not steps:
        raise ItemFileError(path, "workflow", "an item needs at least one review step")
    named = set()
    for i, step in enumerate(steps):
        if step.get("mode") not in {"sequential", "joint"}:
            raise ItemFileError(path, f"workflow[{i}].mode", "must be sequential or joint")
        if not step.get("departments"):
            raise ItemFileError(path, f"workflow[{i}].departments", "missing")
        for dept in step["departments"]:
            if dept not in departments:
                raise ItemFileError(path, f"workflow[{i}].departments", f"unknown department {dept!r}")
        if step["mode"] == "joint" and len(step["departments"]) < 2:
            raise ItemFileError(path, f"workflow[{i}].departments", "a joint step needs two or more departments")
        named.update(step["departments"])
    for dept in item.get("joint_departments", []):
        if dept not in named:
            raise ItemFileError(path, "joint_departments", f"{dept!r} takes part in no workflow step")
    if item["department"] not in named:
        raise ItemFileError(path, "workflow", "the lead department takes part in no step")


def digest(item: dict) -> str:
    return hashlib.sha256(json.dumps(item, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
