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


def trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES load balancers, the client's address and scheme are those they
    forward: the outermost WSGI layer, so that every layer inside (ops.hotpath) sees them."""
    proxies = app.config.get("TRUSTED_PROXIES", 0)
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)


def retry_after(exc=None) -> str:
    """A 429's `Retry-After` (RFC 6585, RFC 9110): the seconds the refusal names (the
    verification quota), else those until the Flask-Limiter limit that refused lets it through."""
    import math
    import time

    from ..core.extensions import limiter

    seconds = getattr(exc, "retry_after", None)
    if isinstance(seconds, (int, float)) and seconds > 0:
        return str(int(seconds))
    current = limiter.current_limit
    return str(max(1, math.ceil(current.reset_at - time.time()))) if current is not None else "60"
