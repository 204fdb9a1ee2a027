"""Check the English catalogue against the code: `python deploy/check_translations.py`.

Extracts every message the code and templates use (`pybabel extract` with the project's
babel.cfg and the project's gettext names), then fails, listing each, on:

- a msgid the code uses that the English catalogue lacks, leaves empty or marks fuzzy;
- a catalogue entry the code no longer uses (delete it: the catalogue is append-only, so
  nothing else removes it).

Exit status 0 when the catalogue and the code agree, 1 otherwise (for `make lint` and CI).
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "govservice" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
#: The names the code calls gettext by (`from flask_babel import lazy_gettext as _l`, ...).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}


def _key(message) -> str:
    return message.id[0] if isinstance(message.id, (tuple, list)) else message.id


def _translated(message) -> bool:
    texts = message.string if isinstance(message.string, (tuple, list)) else [message.string]
    return bool(texts) and all(t and t.strip() for t in texts) and not message.fuzzy


def extract(root: Path = ROOT) -> Catalog:
    """The messages the code uses (what `pybabel extract -F babel.cfg` finds), as a Catalog."""
    with (root / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    catalog = Catalog(locale="en")
    for path, line, message, comments, context in extract_from_dir(
        str(root), method_map, options_map, keywords=KEYWORDS, comment_tags=()
    ):
        catalog.add(message, None, [(path, line)], auto_comments=comments, context=context)
    return catalog


def problems(used, catalogue) -> tuple[list[str], list[str], list[str]]:
    """(missing, untranslated, unused) msgids, each sorted."""
    have = {_key(m): m for m in catalogue if m.id}
    wanted = {_key(m): m for m in used if m.id}
    missing = sorted(k for k in wanted if k not in have)
    untranslated = sorted(k for k in wanted if k in have and not _translated(have[k]))
    unused = sorted(k for k in have if k not in wanted)
    return missing, untranslated, unused


def _where(message) -> str:
    return ", ".join(f"{path}:{line}" for path, line in message.locations[:3])


def main() -> int:
    used = extract()
    with CATALOGUE.open("rb") as fh:
        catalogue = read_po(fh, locale="en")
    missing, untranslated, unused = problems(used, catalogue)
    by_id = {_key(m): m for m in used if m.id}
    report = [
        ("missing from the English catalogue (append an entry at the end of messages.po)", missing, by_id),
        ("in the catalogue but untranslated or fuzzy", untranslated, by_id),
        ("in the catalogue but no longer used by the code (delete the entry)", unused, {}),
    ]
    failed = False
    for title, keys, where in report:
        if keys:
            failed = True
            print(f"{len(keys)} msgid(s) {title}:")
            for key in keys:
                at = f"  ({_where(where[key])})" if key in where else ""
                print(f"  {key!r}{at}")
    if not failed:
        print(f"English catalogue complete: {len(by_id)} messages, none missing, none unused.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
