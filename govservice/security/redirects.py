"""Where a page may send the browser back to: a path on this site, never another site.

Browsers drop tabs and newlines from a URL and read a backslash as a slash, so
`/%09/evil.example/` and `/\\evil.example` are other sites; every control character,
whitespace, backslash and invisible format character (bidi, zero-width) is refused outright.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

MAX_LENGTH = 2048


def safe_path(target) -> str | None:
    """`target` if it is a local absolute path (with its query), else None."""
    if not isinstance(target, str) or not target or len(target) > MAX_LENGTH:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    for char in target:
        if char <= " " or char in "\\\x7f" or (char > "\x7f" and unicodedata.category(char)[0] in "CZ"):
            return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def same_site_referrer(referrer: str | None, host_url: str) -> str | None:
    """The path of a `Referer` of this very site (scheme and host as the request's), else None."""
    if not referrer:
        return None
    ref, own = urlsplit(referrer), urlsplit(host_url)
    if (ref.scheme, ref.netloc) != (own.scheme, own.netloc):
        return None
    return safe_path(ref.path + (f"?{ref.query}" if ref.query else ""))
