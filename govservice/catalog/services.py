"""The service catalogue: syncing item files into versioned rows, and finding items."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask import current_app, g, has_request_context
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from ..audit import services as audit
from ..core.config import ROOT
from ..core.extensions import db
from ..identity.models import Department, ServiceHall
from . import itemcache
from . import search as search_index
from .definitions import LIFE_EVENTS, NO_CERTIFICATE, digest, read_departments, read_items
from .models import SearchTerm, ServiceItem

ITEMS_DIR = ROOT / "items"
AUDIENCE_MATCHES = {"person": ("person", "both"), "enterprise": ("enterprise", "both")}


@dataclass
class SyncReport:
    added: list[str]
    updated: list[str]
    unchanged: list[str]


def sync(directory: Path = ITEMS_DIR) -> SyncReport:
    """Load departments, halls and items; an item whose file changed gets a new version.

    Every file is validated before anything is written: a broken file stops the sync with the
    file and the field named, and the catalogue stays as it was.
    """
    org = read_departments(directory)
    departments = {d.code: d for d in db.session.execute(select(Department)).scalars()}
    known = set(departments) | {spec["code"] for spec in org.get("departments", [])}
    items = read_items(directory, departments=known, certificate_types=set(current_app.extensions["certificate_types"]))
    for spec in org.get("departments", []):
        dept = departments.get(spec["code"]) or Department(code=spec["code"])
        dept.name, dept.uscc = spec["name"], spec["uscc"]
        db.session.add(dept)
        departments[dept.code] = dept
    halls = {h.code: h for h in db.session.execute(select(ServiceHall)).scalars()}
    for spec in org.get("halls", []):
        hall = halls.get(spec["code"]) or ServiceHall(code=spec["code"])
        hall.name = spec["name"]
        db.session.add(hall)
    db.session.flush()

    report = SyncReport([], [], [])
    for item in items:
        current = current_item(item["code"])
        item_digest = digest(item)
        if current is not None and current.digest == item_digest:
            report.unchanged.append(item["code"])
            if not db.session.execute(select(exists().where(SearchTerm.item_id == current.id))).scalar():
                search_index.index_item(current, current.department.name)
            continue
        version = 1
        if current is not None:
            current.is_current = False
            search_index.drop_item(current)
            version = current.version + 1
            report.updated.append(item["code"])
        else:
            report.added.append(item["code"])
        result = item["result"] if item["result"] != NO_CERTIFICATE else None
        row = ServiceItem(
            code=item["code"],
            version=version,
            is_current=True,
            name=item["name"],
            kind=item["kind"],
            department=departments[item["department"]],
            result_type=result,
            time_limit_days=item["time_limit"]["commitment_days"],
            level_of_assurance=item.get("level_of_assurance", 1),
            audience=item["audience"],
            definition=item,
            digest=item_digest,
        )
        db.session.add(row)
        db.session.flush()
        search_index.index_item(row, row.department.name)
    if report.added or report.updated:
        audit.record("catalog.sync", detail={"added": report.added, "updated": report.updated})
    db.session.commit()
    return report


def current_item(code: str) -> ServiceItem | None:
    """The item's current version; asked once per request (the access check and the view both need
    it), and kept in the process between requests where Redis announces changes (`itemcache`)."""
    memo = g.setdefault("catalog_current_items", {}) if has_request_context() else {}
    if code not in memo:
        memo[code] = itemcache.current(code)
    return memo[code]


def list_items() -> list[ServiceItem]:
    return list(
        db.session.execute(
            select(ServiceItem).where(ServiceItem.is_current.is_(True)).order_by(ServiceItem.code)
        ).scalars()
    )


def department(code: str) -> Department | None:
    return db.session.execute(select(Department).where(Department.code == code)).scalar_one_or_none()


def departments_by_code() -> dict[str, Department]:
    return {d.code: d for d in db.session.execute(select(Department).order_by(Department.id)).scalars()}


def find(
    query: str = "", *, department: str | None = None, event: str | None = None, audience: str | None = None
) -> list[ServiceItem]:
    """Current items by search words and/or department, life event and audience."""
    return search(query, department=department, event=event, audience=audience).items


def search(
    query: str = "", *, department: str | None = None, event: str | None = None, audience: str | None = None
) -> search_index.Found:
    """As `find`, with the suggestion ("您是不是要找…") for words that found nothing."""
    found = search_index.search(query) if query and query.strip() else search_index.Found(list_items())
    items = found.items
    if department:
        items = [i for i in items if i.department.code == department]
    if event:
        items = [i for i in items if event in i.definition.get("life_events", [])]
    if audience in AUDIENCE_MATCHES:
        items = [i for i in items if i.audience in AUDIENCE_MATCHES[audience]]
    return search_index.Found(items, found.suggestion)


def facets() -> dict:
    """What the catalogue can be browsed by, with how many items each holds."""
    items = list_items()
    departments: dict[str, tuple[Department, int]] = {}
    for item in items:
        dept, count = departments.get(item.department.code, (item.department, 0))
        departments[item.department.code] = (dept, count + 1)
    events = {event: sum(event in i.definition.get("life_events", []) for i in items) for event in LIFE_EVENTS}
    return {
        "departments": [
            (code, dept.name, n) for code, (dept, n) in sorted(departments.items(), key=lambda kv: kv[1][0].id)
        ],
        "events": {
            audience: [(e, events[e]) for e, a in LIFE_EVENTS.items() if a == audience and events[e]]
            for audience in ("person", "enterprise")
        },
    }


def joint_departments(item: ServiceItem) -> list[Department]:
    by_code = departments_by_code()
    return [by_code[c] for c in item.definition.get("joint_departments", []) if c in by_code]


def workflow_steps(item: ServiceItem) -> list[dict]:
    """The item's review steps with department names: [{mode, departments: [Department]}]."""
    by_code = departments_by_code()
    return [
        {"mode": step["mode"], "departments": [by_code[c] for c in step["departments"] if c in by_code]}
        for step in item.definition.get("workflow", [])
    ]


def result_name(item: ServiceItem) -> str:
    if item.result_type:
        return certificate_type_name(item.result_type)
    return localised(item.definition, "result_name")


def certificate_type_name(code: str | None) -> str:
    """A certificate type's name in the reader's language (licences/*.toml carry `name_en`)."""
    if not code:
        return ""
    ctype = current_app.extensions["certificate_types"].get(code)
    if ctype is None:
        return code
    return (ctype.name_en or ctype.name) if _english() else ctype.name


def certificate_field_label(field) -> str:
    """A certificate field's label (a `certificates.types.Field`) in the reader's language."""
    return (field.label_en or field.label) if _english() else field.label


# --------------------------------------------------------------------------- names in English mode


@lru_cache(maxsize=1)
def _english_names() -> dict[str, str]:
    """Department and hall code -> English name, from items/departments.toml (a data file of the
    code, the same in every process)."""
    org = read_departments(ITEMS_DIR)
    return {spec["code"]: spec["name_en"] for kind in ("departments", "halls") for spec in org.get(kind, [])}


def _english() -> bool:
    return str(get_locale()) == "en"


def item_title(item) -> str:
    """The item's name in the reader's language."""
    return (item.definition.get("name_en") or item.name) if _english() else item.name


def department_title(department) -> str:
    if department is None:
        return ""
    return _english_names().get(department.code, department.name) if _english() else department.name


def localised(table: dict | None, key: str):
    """`table[key]` in the reader's language: in English mode its `<key>_en` twin (every item
    file carries one beside each text a reader sees; `definitions.validate_item` refuses a file
    without), else the Chinese. Stored answers stay Chinese: only what is shown changes."""
    if not table:
        return ""
    get = table.get if isinstance(table, dict) else (lambda k, default=None: getattr(table, k, default))
    if _english() and get(f"{key}_en"):
        return get(f"{key}_en")
    return get(key, "")


def choice_labels(spec: dict) -> list[tuple[str, str]]:
    """A choice field's (stored value, shown label) pairs."""
    values = spec.get("choices", [])
    labels = spec.get("choices_en") if _english() else None
    return list(zip(values, labels if labels and len(labels) == len(values) else values, strict=True))


def choice_label(spec: dict, value) -> str:
    """How a stored choice answer reads in the reader's language."""
    return dict(choice_labels(spec)).get(value, value) if spec.get("type") == "choice" else value


#: The fixed vocabularies of the item files, translated through the Babel catalogue.
KIND_LABELS = {
    "行政许可": _l("行政许可"),
    "行政确认": _l("行政确认"),
    "行政给付": _l("行政给付"),
    "行政裁决": _l("行政裁决"),
    "行政奖励": _l("行政奖励"),
    "其他行政权力": _l("其他行政权力"),
    "公共服务": _l("公共服务"),
}
MATERIAL_FORM_LABELS = {
    "原件": _l("原件"),
    "复印件": _l("复印件"),
    "原件和复印件": _l("原件和复印件"),
    "原件或复印件": _l("原件或复印件"),
    "电子件": _l("电子件"),
}


def kind_title(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def material_form_title(form: str | None) -> str:
    return str(MATERIAL_FORM_LABELS.get(form, form or ""))


def init_app(app) -> None:
    itemcache.init_app(app)
    app.extensions["identity_items"] = sys.modules[__name__]  # identity.items.ItemCatalogue: this module
    app.add_template_filter(item_title, "item_name")
    app.add_template_filter(department_title, "department_name")
    app.add_template_filter(localised, "tr")
    app.add_template_filter(kind_title, "kind_name")
    app.add_template_filter(material_form_title, "material_form")
    app.add_template_filter(certificate_field_label, "field_label")
    app.jinja_env.globals["choice_label"] = choice_label
    app.jinja_env.globals.setdefault("certificate_type_name", certificate_type_name)
