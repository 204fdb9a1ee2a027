"""Finding a service in Chinese (and in English).

Chinese is written without spaces, so items are indexed by overlapping character bigrams
("开饭店" -> 开饭, 饭店), the way CJK full-text analysers do, plus whole latin words (lower case,
"license" folded to "licence", a plural "s" dropped). A query is cut the same way after
dropping filler words (我想, 怎么, 办理, "how", "apply" ...): "我想开饭店" asks for 开饭 and 饭店.

Relevance: a term counts by where it appears (the name and the everyday keywords far above the
small print); an item matches when most of the query's terms are among its terms and at least
one of them is in its name, keywords, life events or department (an item that only *asks for*
a 营业执照 as a material is not what someone searching 营业执照 wants), and items far below the
best match are left out. Everyday words map to the catalogue's words through `items/synonyms.toml`.
A query that finds nothing is compared, with RapidFuzz's edit-distance ratio, with the names and
keywords of the catalogue, and the closest one is offered ("您是不是要找…").

The index is an ordinary table queried with IN and GROUP BY: the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process
from sqlalchemy import delete, func, insert, or_, select

from ..core.extensions import db
from .models import SearchTerm, ServiceItem

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
LATIN = re.compile(r"[a-z0-9]+")
#: Words that say nothing about which service is meant.
FILLERS = (
    "我想要",
    "我想",
    "我要",
    "想要",
    "怎么样",
    "怎么",
    "如何",
    "在哪里",
    "哪里",
    "什么",
    "需要",
    "可以",
    "办理",
    "申请",
    "请问",
    "一下",
    "的",
    "了",
    "吗",
    "呢",
)
ENGLISH_FILLERS = frozenset(
    {
        "a",
        "an",
        "the",
        "of",
        "for",
        "to",
        "in",
        "on",
        "my",
        "i",
        "how",
        "do",
        "does",
        "can",
        "get",
        "apply",
        "application",
        "want",
        "need",
        "where",
        "what",
        "is",
        "and",
        "or",
        "with",
        "new",
        "me",
    }
)
#: How much a term counts, by where it appears in the item.
WEIGHTS = {
    "name": 10,
    "keywords": 8,
    "life_events": 5,
    "department": 4,
    "kind": 2,
    "materials": 2,
    "result": 2,
    "guide": 1,
}
#: A match must include a term at least this strong (name, keywords, life events, department).
STRONG = 4
#: Items scoring below this share of the best match are left out.
RELATIVE_CUT = 0.35
#: How close (RapidFuzz ratio, 0-100) a phrase must be to be offered for a query that found nothing.
SUGGEST_CUTOFF = 60
SYNONYMS_FILE = Path(__file__).resolve().parent.parent.parent / "items" / "synonyms.toml"


def _latin(word: str) -> str:
    word = word.replace("license", "licence")
    if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word[:32]


def terms(text: str) -> set[str]:
    text = text.lower()
    found = set()
    for run in CJK.findall(text):
        if len(run) == 1:
            found.add(run)
        found.update(run[i : i + 2] for i in range(len(run) - 1))
    found.update(_latin(word) for word in LATIN.findall(text) if len(word) >= 2)
    return found


def query_terms(query: str) -> set[str]:
    query = query.lower()
    for filler in FILLERS:
        query = query.replace(filler, " ")
    query = " ".join(w for w in re.split(r"\s+", query) if w not in ENGLISH_FILLERS)
    return terms(query)


@lru_cache(maxsize=1)
def synonyms() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(everyday phrase, catalogue phrases) pairs, longest phrase first."""
    with open(SYNONYMS_FILE, "rb") as fh:
        data = tomllib.load(fh)
    pairs = [(phrase.lower(), tuple(means)) for phrase, means in data.get("synonyms", {}).items()]
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


def variants(query: str) -> list[str]:
    """The query, and the query with each everyday phrase in it said as the catalogue says it."""
    out = [query]
    lowered = query.lower().replace("license", "licence")
    for phrase, means in synonyms():
        if phrase in lowered:
            out += [lowered.replace(phrase, f" {m} ") for m in means]
    return out


def _texts(item: dict, department_name: str) -> dict[str, list[str]]:
    guide = item.get("guide", {})
    return {
        "name": [item["name"], item.get("name_en", "")],
        "keywords": item.get("keywords", []) + item.get("keywords_en", []),
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
        db.session.execute(
            insert(SearchTerm), [{"item_id": row.id, "term": term, "weight": weight} for term, weight in best.items()]
        )


def drop_item(row: ServiceItem) -> None:
    db.session.execute(delete(SearchTerm).where(SearchTerm.item_id == row.id))


@dataclass
class Found:
    """What a search found: the items, best first, and a suggestion when it found nothing."""

    items: list = field(default_factory=list)
    suggestion: str | None = None  # 您是不是要找… (the items are then the suggestion's)


def _ranked(wanted: set[str], limit: int) -> list[tuple[int, int, int, int]]:
    """(item id, hits, score, strongest weight) of the current items matching `wanted`."""
    hits = func.count(func.distinct(SearchTerm.term)).label("hits")
    score = func.sum(SearchTerm.weight).label("score")
    strongest = func.max(SearchTerm.weight).label("strongest")
    if all(len(t) == 1 for t in wanted):  # one character: any term that starts or ends with it
        condition = or_(*(SearchTerm.term.like(f"{t}%") | SearchTerm.term.like(f"%{t}") for t in wanted))
        need = 1
    else:
        wanted = {t for t in wanted if len(t) > 1}
        condition = SearchTerm.term.in_(sorted(wanted))
        need = max(1, math.ceil(len(wanted) * 0.6))
    rows = db.session.execute(
        select(SearchTerm.item_id, hits, score, strongest)
        .join(ServiceItem, ServiceItem.id == SearchTerm.item_id)
        .where(condition, ServiceItem.is_current.is_(True))
        .group_by(SearchTerm.item_id)
        .having(func.count(func.distinct(SearchTerm.term)) >= need)
        .order_by(score.desc(), SearchTerm.item_id)
        .limit(limit * 4)
    ).all()
    return [tuple(r) for r in rows]


def _phrase_bonus(definition: dict, query: str) -> int:
    """An item that has the query as one of its names or keywords, word for word, comes first."""
    wanted = query.strip().lower().replace("license", "licence")
    names = [definition["name"], definition.get("name_en", "")]
    keywords = definition.get("keywords", []) + definition.get("keywords_en", [])
    if any(wanted == k.lower() for k in names + keywords):
        return 1000
    if any(wanted and wanted in n.lower() for n in names):
        return 500
    return 0


def _relevant(query: str, limit: int) -> list[ServiceItem]:
    best: dict[int, int] = {}
    for variant in variants(query):
        wanted = query_terms(variant)
        if not wanted:
            continue
        for item_id, hits, score, strongest in _ranked(wanted, limit):
            if strongest >= STRONG:
                best[item_id] = max(best.get(item_id, 0), hits * 100 + score)
    if not best:
        return []
    rows = {r.id: r for r in db.session.execute(select(ServiceItem).where(ServiceItem.id.in_(best))).scalars()}
    top = max(best.values())  # the cut is on the terms' score; the phrase bonus only orders
    bonus = {i: _phrase_bonus(row.definition, query) for i, row in rows.items()}
    kept = sorted(
        (i for i, s in best.items() if s >= top * RELATIVE_CUT), key=lambda i: (-(best[i] + bonus.get(i, 0)), i)
    )[:limit]
    return [rows[i] for i in kept if i in rows]


def _vocabulary() -> tuple[str, ...]:
    """The names and keywords of the current catalogue (Chinese and English), cached per
    catalogue state: a sync changes the newest item id, which keys the cache."""
    newest = db.session.execute(select(func.max(ServiceItem.id)).where(ServiceItem.is_current.is_(True))).scalar()
    return _vocabulary_at(newest or 0, db.engine.url.render_as_string())


@lru_cache(maxsize=4)
def _vocabulary_at(newest: int, _database: str) -> tuple[str, ...]:
    phrases: set[str] = set()
    for (definition,) in db.session.execute(select(ServiceItem.definition).where(ServiceItem.is_current.is_(True))):
        phrases.update([definition["name"], definition.get("name_en", ""), definition.get("result_name", "")])
        phrases.update(definition.get("keywords", []))
        phrases.update(definition.get("keywords_en", []))
    return tuple(sorted(p for p in phrases if p))


def suggest(query: str) -> str | None:
    """The catalogue phrase closest to `query` by edit distance, if it is close enough."""
    cleaned = query.strip()
    if not cleaned:
        return None
    match = process.extractOne(
        cleaned, _vocabulary(), scorer=fuzz.ratio, processor=str.lower, score_cutoff=SUGGEST_CUTOFF
    )
    return match[0] if match and match[0].lower() != cleaned.lower() else None


def search(query: str, limit: int = 50) -> Found:
    """Current items matching `query`, best first; when none does, the closest phrase of the
    catalogue and what it finds."""
    query = (query or "").strip()
    if not query_terms(query):
        return Found()
    items = _relevant(query, limit)
    if items:
        return Found(items)
    suggestion = suggest(query)
    return Found(_relevant(suggestion, limit) if suggestion else [], suggestion)
