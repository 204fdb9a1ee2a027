"""Request hygiene and response hardening in one place (等级保护 level 3, OWASP ASVS L2 §14, §50).

* `headers`: the security headers every response carries (CSP with a per-page nonce,
  frame-ancestors, nosniff, Referrer-Policy, HSTS over HTTPS), set by one `after_request` hook.
* `redirects`: `safe_path`, the only check of a place to go back to (sign-in's `next`, /lang,
  the CSRF error page): a local path or nothing.
* `text`: NUL bytes refused before any view runs; bidi overrides and zero-width characters
  removed from names and file names (`clean_text`, `clean_filename`).
"""
from __future__ import annotations

from flask import Flask

from . import headers, text
from .redirects import safe_path, same_site_referrer  # noqa: F401
from .text import clean_filename, clean_text  # noqa: F401


def init_app(app: Flask) -> None:
    text.init_app(app)
    headers.init_app(app)
