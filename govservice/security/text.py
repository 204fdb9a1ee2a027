"""Input hygiene: NUL bytes refused at the door; invisible characters out of names and file names.

A NUL byte has no business in a path, a query or a form field; PostgreSQL refuses it in a
text value, so one let through becomes a 500. It is refused before any view runs, with a
clear 400 (the partner API answers in its own JSON format). Bidi overrides (U+202A-U+202E,
U+2066-U+2069) and zero-width characters (U+200B-U+200F, U+2060, U+FEFF) make a name read
differently from what it is: they never reach a signed certificate or a stored file name.
"""

from __future__ import annotations

import re
import unicodedata

from flask import Flask, abort, request
from flask_babel import lazy_gettext as _l

INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u180e\u00ad]")
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
NUL_MESSAGE = _l("请求中含有无效字符（NUL），未被处理。")
MAX_FILENAME = 120


def clean_text(value):
    """`value` without bidi controls and zero-width characters (and surrounding blanks); NFC."""
    if not isinstance(value, str):
        return value
    return unicodedata.normalize("NFC", INVISIBLE.sub("", value)).strip()


def clean_filename(name: str | None, fallback: str = "file") -> str:
    """The last part of an uploaded file's name, without path parts, control or invisible
    characters; at most MAX_FILENAME characters, the extension kept."""
    name = clean_text(CONTROL.sub("", name or ""))
    name = re.split(r"[\\/]", name)[-1].strip().lstrip(".")
    if not name:
        return fallback
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_FILENAME - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else name[:MAX_FILENAME]
    return name


def _has_nul(values) -> bool:
    return any("\x00" in key or any("\x00" in v for v in vs) for key, vs in values.lists())


def refuse_nul_bytes():
    """400 for a NUL byte in the path, the query or a form field (before any view runs)."""
    if "\x00" in request.path or b"%00" in request.query_string:
        abort(400, NUL_MESSAGE)
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        if _has_nul(request.form) or any("\x00" in (f.filename or "") for f in request.files.values()):
            abort(400, NUL_MESSAGE)
    elif request.is_json and b"\\u0000" in request.get_data(cache=True):
        abort(400, NUL_MESSAGE)
    return None


def init_app(app: Flask) -> None:
    # First of the app's hooks: nothing (session, database, audit) runs on such a request.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_nul_bytes)
