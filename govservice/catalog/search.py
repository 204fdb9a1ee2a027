"""Finding a service in Chinese.

Chinese is written without spaces, so items are indexed by overlapping character bigrams
("开饭店" -> 开饭, 饭店), the way CJK full-text analysers do, plus whole latin words. A query
is cut the same way after dropping filler words (我想, 怎么, 办理 ...): "我想开饭店" asks for 开饭
and 饭店. An item matches when most of the query's terms are among its terms; items whose name
or keywords match rank above those that match in the small print. The index is an ordinary
table queried with IN and GROUP BY: the same on SQLite and PostgreSQL.
"""
from __future__ import annotations

import math
import re

from sqlalchemy import delete, func, insert, or_, select

from ..extensions import db
from .models import SearchTerm, ServiceItem

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
LATIN = re.compile(r"[a-z0-9]+")
#: Words that say nothing about which service is meant.
FILLERS = ("我想要", "我想", "我要", "想要", "怎么样", "怎么", "如何", "在哪里", "哪里", "什么", "需要", "可以", "办理",
           "申请", "请问", "一下", "的", "了", "吗", "呢")
#: How much a term counts, by where it appears in the item.
WEIGHTS = {"name": 10, "keywords": 8, "life_events": 5, "department": 4, "kind": 2, "materials": 2, "result": 2,
           "guide": 1}


def terms(text: str) -> set[str]:
    text = text.lower()
    found = set()
    for run in CJK.findall(text):
        if len(run) == 1:
            found.add(run)
        found.update(run[i:i + 2] for i in range(len(run) - 1))
    found.update(word[:32] for word in LATIN.findall(text) if len(word) >= 2)
    return found


def query_terms(query: str) -> set[str]:
    query = query.lower()
    for filler in FILLERS:
        query = query.replace(filler, " ")
    return terms(query)


def _texts(item: dict, department_name: str) -> dict[str, list[str]]:
    guide = item.get("guide", {})
    return {
        "name": [item["name"], item.get("name_en", "")],
        "keywords": item.get("keywords", []),
        "life_events": item.get("life_events", []),
        "department": [department_name],
        "kind": [item["kind"]],
        "materials": [m["name"] for m in item.get("materials", [])],
        "result": [item.get("result_name", "")],
        "guide": guide.get("conditions", []) + [f["q"] for f in guide.get("faq", [])],
    }


def index_item(row: ServiceItem, department_name: str) -> None:
    """(Re)build one item version's terms, in the caller's transaction."""
    db.session.execute(delete(SearchTerm).where(SearchTerm.item_id == row.id))
    best: dict[str, int] = {}
    for where, texts in _texts(row.definition, department_name).items():
        for text in texts:
            for term in terms(text):
                best[term] = max(best.get(term, 0), WEIGHTS[where])
    if best:  # one executemany: the sync runs at every start and in every test's demo load
        db.session.execute(insert(SearchTerm), [{"item_id": row.id, "term": term, "weight": weight}
                                                for term, weight in best.items()])


def drop_item(row: ServiceItem) -> None:
    db.session.execute(delete(SearchTerm).where(SearchTerm.item_id == row.id))


def search(query: str, limit: int = 50) -> list[ServiceItem]:
    """Current items matching `query`, best first; [] for a query with nothing to look for."""
    wanted = query_terms(query or "")
    if not wanted:
        return []
    hits = func.count(func.distinct(SearchTerm.term)).label("hits")
    score = func.sum(SearchTerm.weight).label("score")
    if all(len(t) == 1 for t in wanted):  # one character: any term that starts or ends with it
        condition = or_(*(SearchTerm.term.like(f"{t}%") | SearchTerm.term.like(f"%{t}") for t in wanted))
        need = 1
    else:
        wanted = {t for t in wanted if len(t) > 1}
        condition = SearchTerm.term.in_(sorted(wanted))
        need = max(1, math.ceil(len(wanted) * 0.6))
    ranked = (select(SearchTerm.item_id, hits, score).where(condition).group_by(SearchTerm.item_id)
              .having(func.count(func.distinct(SearchTerm.term)) >= need).subquery())
    rows = db.session.execute(
        select(ServiceItem).join(ranked, ranked.c.item_id == ServiceItem.id)
        .where(ServiceItem.is_current.is_(True))
        .order_by(ranked.c.hits.desc(), ranked.c.score.desc(), ServiceItem.code).limit(limit)
    ).scalars()
    return list(rows)
