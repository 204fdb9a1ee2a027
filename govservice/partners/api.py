"""The partner API: ``/oauth/token`` and ``/api/v1`` (JSON), described at ``/api/v1/openapi.json``.

Every call is rate-limited per client (``PARTNER_RATE_LIMIT``; the token endpoint per claimed
client and address, ``PARTNER_TOKEN_RATE_LIMIT``) and logged: certificate checks and reads as
``Verification`` rows the holder sees in the wallet, refusals in the audit log.
"""

from __future__ import annotations

import base64
import io
import re
from collections import OrderedDict

from flask import Blueprint, Flask, current_app, jsonify, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from ..certificates import consent, identifiers, verification
from ..certificates import services as certificates
from ..core import clock
from ..core.extensions import csrf, limiter
from ..security import retry_after
from . import openapi, services

bp = Blueprint("partners", __name__)
csrf.exempt(bp)

MAX_PURPOSE = 200
SHA256 = re.compile(r"[0-9a-f]{64}")


def _api_limit() -> str:
    return current_app.config["PARTNER_RATE_LIMIT"]


def _token_limit() -> str:
    return current_app.config["PARTNER_TOKEN_RATE_LIMIT"]


@bp.errorhandler(services.ApiError)
def _api_error(exc: services.ApiError):
    response = jsonify(error=exc.error, message=exc.message)
    response.status_code = exc.status
    for name, value in exc.headers.items():
        response.headers[name] = value
    return response


_HTTP_MESSAGES = {
    400: ("invalid_request", _l("请求无效。")),
    404: ("not_found", _l("没有这个接口。")),
    405: ("method_not_allowed", _l("该接口不支持此请求方法。")),
    413: ("request_too_large", _l("请求体过大。")),
    429: ("rate_limited", _l("调用过于频繁，请稍后再试。")),
    500: ("server_error", _l("系统出现错误，我们已记录，请稍后再试。")),
}


def _http_error(exc: HTTPException):
    error, message = _HTTP_MESSAGES.get(exc.code, ("error", exc.description or ""))
    response = jsonify(error=error, message=str(message))
    response.status_code = exc.code or 500
    if exc.code == 429:
        response.headers["Retry-After"] = retry_after(exc)
    return response


for _code in _HTTP_MESSAGES:
    bp.register_error_handler(_code, _http_error)


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise services.ApiError("invalid_request", _("请求体应为 JSON 对象（Content-Type: application/json）。"), 400)
    return body


# --------------------------------------------------------------------------- OAuth 2.0 token endpoint


@bp.post("/oauth/token")
@limiter.limit(_token_limit, key_func=services.token_rate_limit_key)
@limiter.limit(
    lambda: current_app.config["PARTNER_TOKEN_FAILURE_LIMIT"],
    key_func=services.token_failure_key,
    deduct_when=lambda response: response.status_code != 200,
)
@limiter.limit(
    lambda: current_app.config["PARTNER_TOKEN_CLIENT_LIMIT"],
    key_func=services.token_client_key,
    deduct_when=lambda response: response.status_code == 200,
)
def token():
    return services.token_response()


# --------------------------------------------------------------------------- /api/v1


@bp.get("/api/v1/openapi.json")
def openapi_document():
    return jsonify(openapi.document())


@bp.post("/api/v1/certificates/verify")
def verify():
    """certificates:verify: the status of a certificate named by a QR token or an identifier.

    The hot path of the API: the token is remembered per process (partners.tokencache) and
    checked without Authlib's request object when known; the client's rate limit
    (PARTNER_RATE_LIMIT) and the check that the token is still current ride with the
    verification (verification.Quota and Guard: in the process while the mirror is subscribed)."""
    try:
        return _verify()
    except verification.RateLimited as exc:
        raise services.ApiError(
            "rate_limited", _("调用过于频繁，请稍后再试。"), 429, {"Retry-After": str(exc.retry_after)}
        ) from None


def _quota(key: str, app: Flask | None = None) -> verification.Quota | None:
    config = (app if app is not None else current_app).config
    if not config.get("RATELIMIT_ENABLED", True):
        return None
    return verification.Quota(key, config["PARTNER_RATE_LIMIT"])


SCOPE_VERIFY = "certificates:verify"


def _verify():
    def limit_stranger():
        quota = _quota(services.rate_limit_key())
        if quota is not None:
            quota.check()

    client = services.authenticate(SCOPE_VERIFY, cached=True, before_refusal=limit_stranger)
    quota = _quota(f"partner:{client.client_id}")
    try:
        asked = _asked(_json_body())
    except services.ApiError:
        if quota is not None:
            quota.check()
        raise
    try:
        status, certificate = _check(client, services.credentials_guard(), asked, quota)
    except verification.Changed:  # a token or client changed since this process remembered it
        status, certificate = _check(services.reauthenticate(SCOPE_VERIFY), None, asked, quota)
    return jsonify(_answer(status, certificate, asked[3]))


def _asked(body: dict) -> tuple[str | None, str | None, str, str | None]:
    """(token, identifier, purpose, pdf_sha256) of a verify request's JSON body; ApiError if wrong."""
    asked = _read_asked(body)
    if asked == "target":
        raise services.ApiError("invalid_request", _("请提供 token（二维码令牌）或 identifier（证照标识）之一。"), 400)
    if asked == "purpose":
        raise services.ApiError("invalid_request", _("请说明核验用途 purpose（2至%(n)s字）。", n=MAX_PURPOSE), 400)
    if asked == "pdf_sha256":
        raise services.ApiError("invalid_request", _("pdf_sha256 应为64位十六进制的 SHA-256 值。"), 400)
    return asked


def _read_asked(body: dict) -> tuple[str | None, str | None, str, str | None] | str:
    """`_asked` without its words (the hot path runs outside the app's context, and leaves a wrong
    body to `verify`): the tuple, or the name of the first thing wrong in the body."""
    token, identifier = body.get("token"), body.get("identifier")
    if (token is None) == (identifier is None) or not isinstance(token or identifier, str):
        return "target"
    purpose = body.get("purpose")
    if not isinstance(purpose, str) or not 2 <= len(purpose := purpose.strip()) <= MAX_PURPOSE:
        return "purpose"
    pdf_sha256 = body.get("pdf_sha256")
    if pdf_sha256 is not None and (not isinstance(pdf_sha256, str) or not SHA256.fullmatch(pdf_sha256.lower())):
        return "pdf_sha256"
    return token, identifier, purpose, pdf_sha256


def _check(client, guard, asked, quota, memory_only=False, app=None):
    token, identifier, purpose, _pdf = asked
    log = {
        "channel": "api",
        "verifier": client.label,
        "purpose": purpose,
        "client_id": client.id,
        "client_label": client.client_id,
        "quota": quota,
        "guard": guard,
        "memory_only": memory_only,
        "app": app,
    }
    if token is not None:
        return verification.verify_token(token, **log)
    try:
        return verification.verify_identifier(identifier, **log)
    except identifiers.InvalidIdentifier as exc:
        raise services.ApiError(
            "invalid_identifier", _("证照标识格式不正确（GB/T 36904）：%(why)s", why=str(exc)), 400
        ) from None


def _answer(status: str, certificate, pdf_sha256: str | None) -> dict:
    answer = {
        "status": status,
        "status_label": certificates.status_label(status),
        "checked_at": clock.now().isoformat(),
        "certificate": certificates.summary(certificate) if certificate is not None else None,
    }
    if pdf_sha256 is not None and certificate is not None:
        answer["document_matches"] = pdf_sha256.lower() == certificate.pdf_sha256
    return answer


MAX_HOT_BODY = 16 * 1024
_HOT_HEADERS = (("Content-Type", "application/json"), ("Vary", "Cookie"))


def hot_verify(app: Flask, environ: dict, _remote_address: str) -> tuple[int, list, bytes] | None:
    """POST /api/v1/certificates/verify by a partner whose token and answer this process
    remembers: (status, headers, body) as `verify` answers them, or None to leave the request to
    `verify` (`ops.hotpath`; nothing is then counted or logged, and the body is left to be read).

    Called outside the app's context (pushing one costs more than the rest of the check): what
    it needs of `app` is named, and the answer's words, which do need the context, are made once
    per answer (`_answer_bytes`)."""
    if environ.get("HTTP_COOKIE"):  # a session may choose the language of `status_label`
        return None
    view = services.remembered(environ.get("HTTP_AUTHORIZATION", ""), SCOPE_VERIFY, app)
    if view is None:
        return None
    kind = environ.get("CONTENT_TYPE", "")
    if kind != "application/json":
        kind = kind.partition(";")[0].strip().lower()
    length = environ.get("CONTENT_LENGTH", "")
    if kind != "application/json" or not length.isdigit() or int(length) > MAX_HOT_BODY:
        return None
    raw = environ["wsgi.input"].read(int(length))
    environ["wsgi.input"] = io.BytesIO(raw)  # for `verify`, if it answers after all
    try:
        body = app.json.loads(raw)
    except ValueError:
        return None
    asked = _read_asked(body) if isinstance(body, dict) else None
    if not isinstance(asked, tuple):
        return None
    quota = _quota(f"partner:{view.client.client_id}", app)
    try:
        checked = _check(view.client, services.guard_of(view), asked, quota, memory_only=True, app=app)
    except (verification.RateLimited, verification.Changed, services.ApiError):  # nothing spent: `verify` answers
        return None
    if checked is None:
        return None
    return 200, _HOT_HEADERS, _answer_bytes(app, *checked, asked[3])


# What the hot path answers, made once per (status, snapshot, whether the PDF matched): the JSON of
# `_answer` as `verify` sends it (jsonify: sorted keys, compact, a newline), cut where the time of
# the check goes. In the default language: a request with a cookie is not answered hot.
_ANSWERS: OrderedDict[tuple, tuple[bytes, bytes]] = OrderedDict()
_ANSWERS_MAX = 1024
_CHECKED_MARK = "@checked_at@"  # JSON-encoded as itself


def _answer_bytes(app: Flask, status: str, certificate, pdf_sha256: str | None) -> bytes:
    matches = None if pdf_sha256 is None or certificate is None else pdf_sha256.lower() == certificate.pdf_sha256
    key = (status, certificate, matches)
    form = _ANSWERS.get(key)
    checked_at = clock.now(app).isoformat()
    if form is None:
        with app.app_context():  # the type's name, the status's label
            answer = _answer(status, certificate, pdf_sha256)
        answer["checked_at"] = _CHECKED_MARK
        data = (app.json.dumps(answer, separators=(",", ":")) + "\n").encode()
        if data.count(_CHECKED_MARK.encode()) != 1:  # a certificate's text holding the mark: not kept
            answer["checked_at"] = checked_at
            return (app.json.dumps(answer, separators=(",", ":")) + "\n").encode()
        head, _mark, tail = data.partition(_CHECKED_MARK.encode())
        form = _ANSWERS[key] = (head, tail)
        if len(_ANSWERS) > _ANSWERS_MAX:
            _ANSWERS.popitem(last=False)
    return form[0] + checked_at.encode() + form[1]


@bp.post("/api/v1/consents/<code>")
@limiter.limit(_api_limit, key_func=services.rate_limit_key)
def read_with_consent(code):
    """certificates:read: the full content, with the holder's one-time consent code."""
    client = services.authenticate("certificates:read")
    try:
        grant, certificate, content = consent.redeem(code, client)
    except consent.ConsentRefused as exc:
        raise services.ApiError(exc.error, exc.message, exc.http_status) from None
    status = certificates.status_of(certificate)
    return jsonify(
        {
            "status": status,
            "status_label": certificates.status_label(status),
            "certificate": content,
            "consent": {
                "purpose": grant.purpose,
                "granted_at": grant.created_at.isoformat(),
                "expires_at": grant.expires_at.isoformat(),
                "used_at": grant.used_at.isoformat(),
            },
            "pdf_base64": base64.b64encode(certificates.pdf_bytes(certificate)).decode("ascii"),
        }
    )


@bp.get("/api/v1/consents/<code>")
def consent_link_opened(code):
    """Someone opened a consent link in a browser: say what it is for, and use nothing up."""
    response = jsonify(
        error="method_not_allowed",
        message=_("这是授权用证链接，供用证单位的系统以 POST 方式并携带访问令牌调用；在浏览器中打开不会使用该授权。"),
    )
    response.status_code = 405
    response.headers["Allow"] = "POST"
    return response
