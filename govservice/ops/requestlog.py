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
import re
import time

from flask import Flask, has_request_context, request

from ..core import process
from . import metrics

ACCESS = logging.getLogger("govservice.access")
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
# GB 11643 ID numbers (18 characters, the last may be X) and mainland mobile numbers.
_ID_NUMBER = re.compile(r"(?<![0-9])([1-9][0-9]{5})[0-9]{8}([0-9]{3}[0-9Xx])(?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9])")


#: kept in the WSGI environ (one lookup per hook, cheaper than `g`)
STARTED, RESPONSE, REQUEST_ID = "govservice.started", "govservice.response", "govservice.request_id"


def request_id() -> str:
    return id_of(request.environ) if has_request_context() else ""


def id_of(environ: dict) -> str:
    """The request's id: the load balancer's, if sane, else a new one (kept in the environ)."""
    rid = environ.get(REQUEST_ID)
    if rid is None:
        given = environ.get("HTTP_X_REQUEST_ID", "")
        rid = environ[REQUEST_ID] = given if given and _SANE_ID.match(given) else process.unique_id()
    return rid


def mask(text: str) -> str:
    return _MOBILE.sub(r"\1****\2", _ID_NUMBER.sub(r"\1********\2", text))


class RequestContextFilter(logging.Filter):
    """Adds the request id to each record and masks ID and phone numbers in its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):  # given by a line written outside Flask (hotpath)
            record.request_id = request_id()
        if record.name == ACCESS.name:  # made here, of the method, endpoint, status and time only
            return True
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def _json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        timestamp=False,
    )


def configure_logging(app: Flask) -> None:
    """JSON or text lines on stderr, each with the request id; called once per app."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_govservice", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler._govservice = True
        handler.addFilter(RequestContextFilter())
        for old in [
            h
            for h in root.handlers
            if isinstance(h, logging.StreamHandler) and getattr(h, "stream", None) in (None, __import__("sys").stderr)
        ]:
            root.removeHandler(old)  # logging.basicConfig's: replaced, not doubled
        root.addHandler(handler)
    if app.config["LOG_FORMAT"] == "json":
        handler.setFormatter(_json_formatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"))
    ACCESS.setLevel(logging.INFO if app.config["LOG_REQUESTS"] else logging.WARNING)


def start(environ: dict) -> None:
    environ[STARTED] = time.perf_counter()


def _tag(response):
    """after_request: the id on the answer; the response kept for `_finish`."""
    response.headers["X-Request-ID"] = request_id()
    request.environ[RESPONSE] = response
    return response


def _finish(_exc):
    """teardown_request: after the session was saved, so a response the session store turned
    into a 503 is counted and logged as what the client got."""
    current = request._get_current_object()
    environ = current.environ
    started, response = environ.get(STARTED), environ.get(RESPONSE)
    if started is None or response is None:
        return
    finished(current.endpoint or "none", current.method, response.status_code, started)


def finished(endpoint: str, method: str, status: int, started: float, rid: str | None = None) -> None:
    """A request answered: its time observed (Prometheus) and its access line written."""
    elapsed = time.perf_counter() - started
    metrics.observe_request(endpoint, method, status, elapsed)
    if ACCESS.isEnabledFor(logging.INFO):
        ms = round(elapsed * 1000, 2)
        extra = {"method": method, "endpoint": endpoint, "status": status, "ms": ms}
        if rid is not None:
            extra["request_id"] = rid
        ACCESS.info("%s %s %s %.2f ms", method, endpoint, status, ms, extra=extra)


def init_app(app: Flask) -> None:
    """(The request's start is taken by ops' first before_request hook, `start`.)"""
    configure_logging(app)
    app.after_request(_tag)
    app.teardown_request(_finish)
