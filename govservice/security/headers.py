"""The security headers of every response, set in one `after_request` hook.

The policy is built once at start; a request pays for a dict look-up per header it lacks. A
page whose template asks for `csp_nonce()` gets a fresh nonce in its `script-src`; the others
(the public verification page, the API, files) share the precomputed header value.

* Content-Security-Policy: only this origin's scripts, styles, images and fonts; no plugins,
  no `<base>`, forms post here or to a configured identity provider (the sign-in, linking and
  sign-out forms are answered by a redirect to it, which `form-action` also governs);
  `frame-ancestors 'none'` (with X-Frame-Options for old browsers) so that no page, the
  revoke form least of all, can be framed.
* X-Content-Type-Options: nosniff (uploads are served as what they were sniffed to be).
* Referrer-Policy: same-origin (a verification URL carries its token; it stays here).
* Strict-Transport-Security when the platform is served over HTTPS.
* Cache-Control: no-store on pages for a signed-in person, unless the view chose otherwise.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Flask, g
from werkzeug.datastructures import Headers

NONCE_KEY = "_csp_nonce"


def csp_nonce() -> str:
    """The nonce of this response's CSP (created on first use, in templates: `{{ csp_nonce() }}`)."""
    nonce = g.get(NONCE_KEY)
    if nonce is None:
        nonce = g.setdefault(NONCE_KEY, secrets.token_urlsafe(18))
    return nonce


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def policy(form_targets: list[str]) -> tuple[str, str]:
    """The CSP as (before the script nonce, after it): `head + " 'nonce-…'" + tail`."""
    forms = " ".join(["'self'", *sorted(set(form_targets))])
    head = "default-src 'self'; script-src 'self'"
    tail = (
        "; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
        f"base-uri 'none'; form-action {forms}; frame-ancestors 'none'"
    )
    return head, tail


def _form_targets(app: Flask) -> list[str]:
    """Origins a form's redirect may lead to: the configured identity providers."""
    configured = app.extensions.get("oidc_providers", {})  # identity's init_app ran first
    return [o for p in configured.values() if (o := _origin(p.issuer))]


def init_app(app: Flask) -> None:
    head, tail = policy(_form_targets(app))
    plain_csp = head + tail
    # Behind a proxy `request.is_secure` depends on its headers: the configured public URL decides.
    https = app.config.get("PUBLIC_URL", "").startswith("https://")
    fixed = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }
    if https:
        fixed["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    fixed["Content-Security-Policy"] = plain_csp
    Headers(list(fixed.items()))  # the values are checked once here (no newline may slip into a header)
    fixed_items = tuple(fixed.items())
    app.extensions["security_headers"] = fixed_items  # for answers made outside Flask (ops.hotpath)
    with_nonce = tuple(item for item in fixed_items if item[0] != "Content-Security-Policy")
    names = frozenset(name.lower() for name in fixed)

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        request_globals = g._get_current_object().__dict__  # one proxy look-up, then plain dict reads
        nonce = request_globals.get(NONCE_KEY)
        items = (
            fixed_items
            if nonce is None
            else with_nonce + (("Content-Security-Policy", f"{head} 'nonce-{nonce}'{tail}"),)
        )
        if names.isdisjoint([name.lower() for name in headers.keys()]):
            # The usual case: no view set any of them. Appended as they are (checked above): the
            # public verification page pays about a microsecond, not a validation per header.
            headers._list.extend(items)
        else:
            for name, value in items:
                if name not in headers:
                    headers[name] = value
        user = request_globals.get("_login_user")  # set by Flask-Login only if the request asked
        if user is not None and user.is_authenticated and "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-store"
        return response

    app.jinja_env.globals["csp_nonce"] = csp_nonce
