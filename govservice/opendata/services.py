"""政务公开 and open data (公共数据开放).

* each item's guide and its statistics;
* 行政许可公示 in the 双公示 style: the licences granted, with the holder only when it is an
  enterprise (name and unified social credit code); a person holder is never shown;
* monthly statistics by item, department and channel, de-identified: a count below K = 5 is
  suppressed (published as empty), as CSV and JSON, described by a Frictionless Data Package
  (`datapackage.json`: Table Schema of every column) under CC BY 4.0.

Every figure is a GROUP BY over the cases' figures index; the datasets are computed at most once
per CACHE_SECONDS per process and served with a public Cache-Control, so a crowd of visitors
costs one query.
"""

from __future__ import annotations

import csv
import io
import threading
import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from ..calendar.workdays import beijing_date
from ..cases.models import Case
from ..catalog.models import ServiceItem
from ..certificates.models import Certificate
from ..core.extensions import db
from ..core.pagination import Key, Page, keyset
from ..identity.models import Department, Enterprise

K = 5
CACHE_SECONDS = 600
LICENCE = {
    "name": "CC-BY-4.0",
    "title": "Creative Commons Attribution 4.0 International",
    "path": "https://creativecommons.org/licenses/by/4.0/",
}
CHANNELS = {"online": "网上申请", "window": "窗口受理"}
FIELDS = [
    {"name": "month", "type": "yearmonth", "title": "月份", "description": "申请提交的月份（北京时间），YYYY-MM"},
    {"name": "item_code", "type": "string", "title": "事项编码", "description": "政务服务事项在本平台目录中的编码"},
    {"name": "item_name", "type": "string", "title": "事项名称"},
    {"name": "department", "type": "string", "title": "承办部门"},
    {
        "name": "channel",
        "type": "string",
        "title": "渠道",
        "description": "网上申请 或 窗口受理",
        "constraints": {"enum": list(CHANNELS.values())},
    },
    {
        "name": "submitted",
        "type": "integer",
        "title": "提交件数",
        "description": f"当月提交的申请件数；少于 {K} 件的单元格不予公开（空值）",
    },
    {
        "name": "completed",
        "type": "integer",
        "title": "已办结件数",
        "description": f"当月提交且已办结的件数；少于 {K} 件的不予公开（空值）",
    },
    {
        "name": "completed_on_time",
        "type": "integer",
        "title": "按时办结件数",
        "description": f"其中在承诺时限内办结的件数；少于 {K} 件的不予公开（空值）",
    },
]


def suppress(n: int | None) -> int | None:
    """A count below K is not published (None): small cells could single a person out."""
    return None if n is None or n < K else int(n)


def _month(column):
    day = beijing_date(column)
    if db.engine.dialect.name == "postgresql":
        return func.to_char(day, "YYYY-MM")
    return func.strftime("%Y-%m", day)


def _compute_monthly() -> list[dict]:
    month = _month(Case.submitted_at)
    completed = func.sum(db.case((Case.state == "completed", 1), else_=0))
    on_time = func.sum(db.case((Case.on_time.is_(True), 1), else_=0))
    query = (
        select(
            month, ServiceItem.code, ServiceItem.name, Department.name, Case.channel, func.count(), completed, on_time
        )
        .select_from(Case)
        .join(ServiceItem, ServiceItem.id == Case.item_id)
        .outerjoin(Department, Department.id == Case.department_id)
        .where(Case.submitted_at.is_not(None))
        .group_by(month, ServiceItem.code, ServiceItem.name, Department.name, Case.channel)
        .order_by(month, ServiceItem.code, Case.channel)
    )
    rows: dict[tuple, list] = {}
    for m, code, name, department, channel, n, done, timely in db.session.execute(query):
        key = (m, code, department or "", CHANNELS.get(channel, channel))
        # an item renamed between versions is one item: the name of its latest row wins
        totals = rows.setdefault(key, [name, 0, 0, 0])
        totals[0] = name
        totals[1] += n
        totals[2] += done or 0
        totals[3] += timely or 0
    return [
        {
            "month": m,
            "item_code": code,
            "item_name": name,
            "department": department,
            "channel": channel,
            "submitted": suppress(n),
            "completed": suppress(done),
            "completed_on_time": suppress(timely),
        }
        for (m, code, department, channel), (name, n, done, timely) in rows.items()
    ]


_cache: dict = {}
_lock = threading.Lock()


def monthly() -> list[dict]:
    """The monthly dataset, computed at most once per CACHE_SECONDS in this process."""
    key = (current_app.config["SQLALCHEMY_DATABASE_URI"], current_app.config.get("TESTING", False))
    with _lock:
        hit = _cache.get(key)
        if hit and time.monotonic() - hit[0] < CACHE_SECONDS and not current_app.config.get("TESTING"):
            return hit[1]
    rows = _compute_monthly()
    with _lock:
        _cache[key] = (time.monotonic(), rows)
    return rows


def monthly_csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180
    writer.writerow([f["name"] for f in FIELDS])
    for row in rows:
        writer.writerow(["" if row[f["name"]] is None else row[f["name"]] for f in FIELDS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM lets spreadsheet programs read UTF-8


def datapackage(base_url: str) -> dict:
    """The data dictionary: a Frictionless Data Package with the Table Schema of the dataset."""
    schema = {"fields": FIELDS, "missingValues": [""], "primaryKey": ["month", "item_code", "department", "channel"]}
    return {
        "profile": "tabular-data-package",
        "name": "govservice-monthly-statistics",
        "title": "政务服务办件月度统计（去标识化）",
        "description": f"按月份、事项、承办部门和渠道统计的办件数。为防止识别到个人，少于 {K} 件的单元格不予公开（空值），"  # noqa: E501
        "且不发布可反推被隐藏单元格的合计。",
        "licenses": [LICENCE],
        "resources": [
            {
                "name": "monthly-csv",
                "path": f"{base_url}/open/data/monthly.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8-sig",
                "profile": "tabular-data-resource",
                "schema": schema,
            },
            {
                "name": "monthly-json",
                "path": f"{base_url}/open/data/monthly.json",
                "format": "json",
                "mediatype": "application/json",
                "profile": "tabular-data-resource",
                "schema": schema,
            },
        ],
    }


@dataclass
class ItemFigures:
    submitted: int | None
    completed: int | None
    on_time: int | None
    average_days: float | None


def item_figures(code: str) -> ItemFigures:
    """An item's figures over all its versions, small counts suppressed as in the datasets."""
    ids = select(ServiceItem.id).where(ServiceItem.code == code)
    row = db.session.execute(
        select(
            func.count(),
            func.sum(db.case((Case.state == "completed", 1), else_=0)),
            func.sum(db.case((Case.on_time.is_(True), 1), else_=0)),
            func.avg(Case.working_days),
            func.count(Case.working_days),
        ).where(Case.item_id.in_(ids))
    ).one()
    submitted, completed, on_time, average, timed = row
    return ItemFigures(
        suppress(submitted),
        suppress(completed),
        suppress(on_time),
        round(float(average), 1) if average is not None and timed >= K else None,
    )


@dataclass
class LicenceRow:
    holder: str | None  # an enterprise's name; None for a person (never published)
    uscc: str | None
    type_code: str
    identifier: str
    issued_at: object
    expires_at: object
    issuer: str
    status: str


def licences(token: str | None = None) -> Page:
    """行政许可公示: the certificates issued, newest first (by id, the primary key)."""
    query = (
        select(Certificate, Enterprise.name, Enterprise.uscc, Department.name)
        .join(Department, Department.id == Certificate.issuer_id)
        .outerjoin(Enterprise, Enterprise.id == Certificate.holder_enterprise_id)
    )
    page = keyset(query, [Key(Certificate.id, descending=True)], token, size=50)
    page.items = [
        LicenceRow(name, uscc, c.type_code, c.identifier, c.issued_at, c.expires_at, issuer, c.status)
        for c, name, uscc, issuer in page.items
    ]
    return page
