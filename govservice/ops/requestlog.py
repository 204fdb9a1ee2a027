"""Request ids, request timing and structured (JSON) logs without personal data.

Every request gets an id: the load balancer's `X-Request-ID` when it sends a sane one (HAProxy's
`unique-id`), else a new one; it is answered in `X-Request-ID`, shown on error pages and put on
every log line written while the request runs, so one request can be followed from HAProxy
through the app to the worker's lines.

JSON lines (python-json-logger) when LOG_FORMAT=json (the default outside development). What a
line may hold is chosen, not filtered after the fact: the access line names the endpoint, never
the path or query (paths carry tokens and consent codes, queries what people searched for), and
a filter masks anything shaped like a citizen ID number or a mobile number that a message might
still carry.
"""
from __future__ import annotations

import logging
import os
import re
import time

from flask import Flask, g, has_request_context, request, request_finished

from . import metrics

ACCESS = logging.getLogger("govservice.access")
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
# GB 11643 ID numbers (18 characters, the last may be X) and mainland mobile numbers.
_ID_NUMBER = re.compile(r"(?<![0-9])([1-9][0-9]{5})[0-9]{8}([0-9]{3}[0-9Xx])(?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9])")


def request_id() -> str:
    if not has_request_context():
        return ""
    rid = g.get("request_id")
    if rid is None:
        given = request.headers.get("X-Request-ID", "")
        rid = g.request_id = given if _SANE_ID.match(given) else os.urandom(8).hex()
    return rid


def mask(text: str) -> str:
    return _MOBILE.sub(r"\1****\2", _ID_NUMBER.sub(r"\1********\2", text))


class RequestContextFilter(logging.Filter):
    """Adds the request id to each record and masks ID and phone numbers in its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id()
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def _json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter
    return JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                         rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                         timestamp=False)


def configure_logging(app: Flask) -> None:
    """JSON or text lines on stderr, each with the request id; called once per app."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_govservice", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler._govservice = True
        handler.addFilter(RequestContextFilter())
        for old in [h for h in root.handlers if isinstance(h, logging.StreamHandler)
                    and getattr(h, "stream", None) in (None, __import__("sys").stderr)]:
            root.removeHandler(old)  # logging.basicConfig's: replaced, not doubled
        root.addHandler(handler)
    if app.config["LOG_FORMAT"] == "json":
        handler.setFormatter(_json_formatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"))
    ACCESS.setLevel(logging.INFO if app.config["LOG_REQUESTS"] else logging.WARNING)


def _start():
    g.started = time.perf_counter()


def _finish(app, response, **_kw):
    """On `request_finished`: after the session is saved, so a response the session store
    turned into a 503 is counted and logged as what the client got."""
    started = g.get("started")
    if started is None:
        return
    elapsed = time.perf_counter() - started
    endpoint = request.endpoint or "none"
    metrics.observe_request(endpoint, request.method, response.status_code, elapsed)
    response.headers["X-Request-ID"] = request_id()
    if ACCESS.isEnabledFor(logging.INFO):
        ms = round(elapsed * 1000, 2)
        ACCESS.info("%s %s %s %.2f ms", request.method, endpoint, response.status_code, ms,
                    extra={"method": request.method, "endpoint": endpoint, "status": response.status_code, "ms": ms})


def init_app(app: Flask) -> None:
    configure_logging(app)
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    request_finished.connect(_finish, app, weak=False)
