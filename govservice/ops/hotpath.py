"""The two hottest routes answered without Flask's request cycle, when nothing in it would act.

The public verification page behind the QR (a phone scanning a licence) and the partner API's
verify carry most of a city's traffic. Flask's request cycle, with the platform's hooks
(session, CSRF, Babel, access guards, kiosk confinement, request log, security headers), costs
more than the verification itself. For a request those hooks let through untouched (a visitor
without a session; a partner whose bearer token this process remembers) and whose answer is in
this process's memory (the certificate checked before, its page rendered before), the route's
own `hot_*` function answers: the same check and the same log entry as the view, whose code it
shares, and the same bytes and headers (tests/ops/test_hotpath.py compares them with Flask's),
with the request id, metrics and access line of `requestlog`.

Everything else (a certificate not yet in memory, a refusal, a rate limit reached, a forged
token, a malformed body, a signed-in visitor) the function declines before anything is counted
or logged, and Flask answers as always. `HOT_PATH=0` turns this off.
"""

from __future__ import annotations

import logging
import time
from http import HTTPStatus

from flask import Flask

from ..certificates import views as certificate_views
from ..partners import api as partner_api
from . import requestlog

log = logging.getLogger(__name__)

_STATUS_LINES = {code.value: f"{code.value} {code.phrase}" for code in HTTPStatus}


class HotPath:
    """WSGI middleware in front of Flask (inside the proxy fix: it sees the client's address)."""

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self.security_headers = app.extensions["security_headers"]

    def __call__(self, environ, start_response):
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO", "")
        if method == "POST" and path == "/api/v1/certificates/verify":
            endpoint, answer_of = "partners.verify", self._partner_answer
        elif method == "GET" and path.startswith("/v/"):
            endpoint, answer_of = "certificates.verify", self._page_answer
        else:
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        try:
            answer = answer_of(environ, environ.get("REMOTE_ADDR") or "127.0.0.1")
        except Exception:  # declined: Flask answers (and shows the error page if it fails too)
            log.exception("the hot path of %s failed; answered by Flask", endpoint)
            answer = None
        if answer is None:
            return self.wsgi_app(environ, start_response)
        status, headers, body = answer
        rid = requestlog.id_of(environ)
        start_response(
            _STATUS_LINES[status],
            [*headers, ("Content-Length", str(len(body))), *self.security_headers, ("X-Request-ID", rid)],
        )
        requestlog.finished(endpoint, method, status, started, rid)
        return [body]

    def _partner_answer(self, environ, address):
        # outside the app's context: `hot_verify` names what it needs of the app
        return partner_api.hot_verify(self.app, environ, address)

    def _page_answer(self, environ, address):
        with self.app.app_context():
            return certificate_views.hot_verify_page(environ, address)


def init_app(app: Flask) -> None:
    if app.config.get("HOT_PATH", True) and not app.debug:
        app.wsgi_app = HotPath(app, app.wsgi_app)
