"""我的证照 (the wallet: PDF, QR, verifications, consent), the public verification page behind
the QR, the published keys, and the issuing department's certificate desk."""

import io
import re
from collections import OrderedDict
from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from werkzeug.exceptions import TooManyRequests

from .. import access
from ..core import clock
from ..core.extensions import csrf, limiter
from ..identity.access import require_role
from . import consent, documents, lifecycle, queries, services, shortref, verification

bp = Blueprint("certificates", __name__)


def _wallet_page(errors=None, values=None, status=200):
    default_until = (clock.now() + timedelta(days=7)).astimezone(clock.BEIJING).strftime("%Y-%m-%dT%H:%M")
    page = queries.wallet(current_user, request.args.get("page"))
    return render_template(
        "certificates/wallet.html",
        certificates=page,
        latest=page.extra["latest"],
        more=page.extra["more"],
        status_of=services.status_of,
        labels=services.STATUS_LABELS,
        type_of=services.certificate_type,
        grant_state=consent.state_of,
        grant_label=consent.state_label,
        display_code=consent.display_code,
        consent_link=consent.consent_link,
        partners=consent.partners(),
        default_until=default_until,
        errors=errors or {},
        values=values or {},
        verify_url=services.verify_url,
        qr_withheld=services.qr_withheld,
    ), status


@bp.get("/wallet")
@login_required
def wallet():
    return _wallet_page()


@bp.get("/wallet/<identifier>/verifications")
@login_required
def verifications(identifier):
    """Every check or use of one certificate, newest first, a page at a time (用证记录)."""
    certificate = _held(identifier)
    return render_template(
        "certificates/verifications.html",
        certificate=certificate,
        page=queries.verifications(certificate, request.args.get("page")),
        type_of=services.certificate_type,
        labels=services.STATUS_LABELS,
    )


def _held(identifier, what="certificate"):
    """The certificate, if the signed-in person holds it or is an officer of its issuer
    (govservice.access; an officer's read is audited)."""
    return access.certificate_for(current_user, identifier, what=what)[0]


@bp.get("/wallet/<identifier>.pdf")
@login_required
def download(identifier):
    return _document(identifier, "pdf", "application/pdf", services.pdf_bytes)


@bp.get("/wallet/<identifier>.ofd")
@login_required
def download_ofd(identifier):
    """The certificate as OFD (GB/T 33190), for the national e-licence systems."""
    return _document(identifier, "ofd", "application/ofd", documents.ofd_bytes)


def _document(identifier, extension, mimetype, render):
    """The held certificate as a file named "<type>-<identifier>.<extension>"."""
    certificate = _held(identifier)
    name = f"{services.certificate_type(certificate.type_code).name}-{certificate.identifier}.{extension}"
    return send_file(io.BytesIO(render(certificate)), mimetype=mimetype, download_name=name, as_attachment=True)


@bp.get("/wallet/<identifier>/credential.sd-jwt")
@login_required
def sd_jwt_vc(identifier):
    """The certificate as an SD-JWT VC, for the holder's own wallet app."""
    return _credential(documents.sd_jwt_vc(_held(identifier)), "application/dc+sd-jwt", identifier, "sd-jwt")


@bp.get("/wallet/<identifier>/credential.vc.jwt")
@login_required
def w3c_vc(identifier):
    """The certificate as a W3C VC 2.0 secured with JOSE."""
    return _credential(documents.w3c_vc(_held(identifier)), "application/vc+jwt", identifier, "vc.jwt")


def _credential(text: str, mimetype: str, identifier: str, suffix: str):
    response = send_file(
        io.BytesIO(text.encode("ascii")), mimetype=mimetype, as_attachment=True, download_name=f"{identifier}.{suffix}"
    )
    response.cache_control.no_store = True
    return response


@bp.get("/credentials/status/<purpose>/<int:number>")
def status_list(purpose, number):
    """A Bitstring Status List (W3C) of revocations or suspensions: public, signed, cacheable."""
    credential = documents.status_list(purpose, number)
    if credential is None:
        abort(404)
    response = current_app.response_class(credential, mimetype="application/vc+jwt")
    response.cache_control.public = True
    response.cache_control.max_age = 60
    return response


@bp.get("/wallet/<identifier>/qr.png")
@login_required
def qr(identifier):
    """The QR of the wallet token's verification URL (it also binds the PDF's hash)."""
    certificate = _held(identifier)
    if services.qr_withheld(certificate):  # not offered for showing: the wallet says why
        abort(410)
    import qrcode  # with Pillow: loaded by the first QR image a worker draws, not at start

    image = qrcode.make(
        services.verify_url(certificate.token), box_size=5, border=4, error_correction=qrcode.constants.ERROR_CORRECT_M
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    response = send_file(io.BytesIO(buffer.getvalue()), mimetype="image/png")
    response.cache_control.private = True
    response.cache_control.max_age = 300
    return response


@bp.post("/wallet/<identifier>/consents")
@login_required
def grant_consent(identifier):
    form = request.form
    try:
        consent.grant(identifier, current_user, form.get("partner"), form.get("purpose", ""), form.get("until", ""))
    except services.CertificateError as exc:
        certificate = services.find(identifier)
        if exc.field is None or certificate is None:  # not about a field of the form: say it at the top
            flash(exc.message, "error")
            return redirect(url_for("certificates.wallet"))
        return _wallet_page(
            errors={certificate.id: {exc.field: exc.message}}, values={certificate.id: form.to_dict()}, status=400
        )
    flash(_("授权已生成。请将下方的授权码或授权链接交给用证单位；它只能使用一次，您可随时撤回。"), "success")
    certificate = services.find(identifier)
    return redirect(url_for("certificates.wallet", _anchor=f"c-{certificate.id}"))


@bp.post("/wallet/consents/<int:grant_id>/withdraw")
@login_required
def withdraw_consent(grant_id):
    try:
        consent.withdraw(grant_id, current_user)
        flash(_("授权已撤回，用证单位将无法再使用该授权码。"), "success")
    except services.CertificateError as exc:
        flash(exc.message, "error")
    return redirect(url_for("certificates.wallet"))


# Rendered verification pages for visitors without a session (a phone scanning a QR): the page is
# then a function of the path, the answer and the snapshot alone (no session: no language choice,
# no flashed message, no user), so the same inputs give the same bytes. The key holds the whole
# snapshot, so a revocation (a new snapshot) never meets an old page.
_PAGES: OrderedDict = OrderedDict()
_PAGES_MAX = 512
_PATH_MARK = b"\x00"  # where a kept page's path goes (a page never holds a NUL: security.text refuses them)


def _verify_page(status: str, snap) -> str:
    return render_template(
        "certificates/verify.html",
        status=status,
        label=services.STATUS_LABELS[status],
        basics=services.public_basics(snap) if snap else [],
    )


PAGE_VERIFIER = "公开核验页面"  # the log keeps the platform's words, whatever language the visitor reads
#: the environ key of a check `hot_verify_page` made and logged already (the view then only renders)
CHECKED = "govservice.verify_page_checked"


@bp.get("/v/<path:token>")
def verify(token):
    return _answer_page(
        lambda quota: (
            request.environ.pop(CHECKED, None)
            or verification.verify_token(token, channel="page", verifier=PAGE_VERIFIER, quota=quota)
        )
    )


# A QR token as Flask hands it to `verify` unchanged (base64url JWS; `~` joins SD-JWT parts).
_PLAIN_TOKEN = re.compile(r"[A-Za-z0-9._~-]{1,4096}")


def hot_verify_page(environ: dict, remote_address: str) -> tuple[int, list, bytes] | None:
    """GET /v/<token> for a visitor without a session whose answer this process remembers:
    (status, headers, body) as `verify` answers them, or None to leave the request to `verify`
    (`ops.hotpath`; nothing is then counted or logged). The check is logged here; a page not
    rendered yet is rendered by `verify` with the answer handed over in the environ (CHECKED)."""
    token = environ["PATH_INFO"][3:]
    if environ.get("HTTP_COOKIE") or environ.get("QUERY_STRING") or not _PLAIN_TOKEN.fullmatch(token):
        return None
    try:
        checked = verification.verify_token(
            token, channel="page", verifier=PAGE_VERIFIER, quota=_page_quota(remote_address), memory_only=True
        )
    except verification.RateLimited:  # nothing counted: `verify` counts again and answers 429
        return None
    if checked is None:
        return None
    html = _kept_page(environ["PATH_INFO"], *checked)
    if html is None:
        environ[CHECKED] = checked
        return None
    return _code(checked[0]), [("Content-Type", "text/html; charset=utf-8"), ("Vary", "Cookie")], html


@bp.get("/r/<reference>")
def verify_reference(reference):
    """The page behind a printed certificate's QR (its short reference, shortref.py)."""
    return _answer_page(
        lambda quota: shortref.verify_reference(reference, channel="page", verifier=PAGE_VERIFIER, quota=quota)
    )


def _page_quota(remote_address: str) -> verification.Quota | None:
    """The rate limit per address (VERIFY_PAGE_RATE_LIMIT), counted with the verification
    (verification.Quota: in the process with Redis, sent in batches), not by a round trip of its own."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return None
    return verification.Quota(f"page:{remote_address}", current_app.config["VERIFY_PAGE_RATE_LIMIT"])


def _answer_page(check):
    try:
        status, snap = check(_page_quota(get_remote_address()))
    except verification.RateLimited as exc:
        raise TooManyRequests(retry_after=exc.retry_after) from None
    code = _code(status)
    if request.cookies.get(current_app.config["SESSION_COOKIE_NAME"]):
        return _verify_page(status, snap), code
    html = _kept_page(request.path, status, snap)
    if html is None:
        html = _verify_page(status, snap).encode()
        _keep_page(request.path, status, snap, html)
    return html, code


def _code(status: str) -> int:
    return 200 if status != "forged" else 404


def _kept_page(path: str, status: str, snap) -> bytes | None:
    form = _PAGES.get((status, snap))
    return form.replace(_PATH_MARK, path.encode()) if form is not None else None


def _keep_page(path: str, status: str, snap, html: bytes) -> None:
    """Keep a page for visitors without a session, under its answer and snapshot alone: the one
    thing on it that depends on the token is its path (the language switch's way back), filled in
    per request. So the tokens of one certificate (a QR re-issued, shown again from the wallet)
    share a page, and a flood of forged tokens neither renders a page each nor pushes the pages of
    real certificates out."""
    if not _PLAIN_TOKEN.fullmatch(path[3:]) or html.count(path.encode()) != 1:
        return  # (a path with characters HTML would escape: rendered each time)
    _PAGES[(status, snap)] = html.replace(path.encode(), _PATH_MARK)
    if len(_PAGES) > _PAGES_MAX:
        _PAGES.popitem(last=False)


@bp.get("/.well-known/jwks.json")
def jwks():
    response = jsonify(current_app.extensions["token_keys"].public_jwks())
    response.cache_control.max_age = 300
    response.cache_control.public = True
    return response


@bp.get("/.well-known/pdf-signing-ca.pem")
def signing_roots():
    """The CA certificates a PDF validator should trust for certificates signed here (the
    signing key's and the time-stamping authority's)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    pem = b"".join(
        x509.load_der_x509_certificate(root.dump()).public_bytes(Encoding.PEM) for root in services.pdf_trust_roots()
    )
    response = current_app.response_class(pem, mimetype="application/x-pem-file")
    response.cache_control.max_age = 3600
    response.cache_control.public = True
    return response


@bp.route("/verify/ofd", methods=["GET", "POST"])
@limiter.limit("30/minute", methods=["POST"])
@csrf.exempt  # public and read-only (it logs a use): a CSRF token would give every visitor a session
def verify_ofd():
    """核验OFD文件: anybody uploads an OFD certificate; the page says whether its electronic seal
    holds and what the certificate it names is now."""
    from .seals import check_ofd

    check, error = None, None
    if request.method == "POST":
        upload = request.files.get("ofd")
        data = upload.read(current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024 + 1) if upload else b""
        if not data:
            error = _("请选择要核验的OFD文件。")
        elif len(data) > current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024:
            error = _("文件过大，不能超过 %(mb)s MB。", mb=current_app.config["MAX_UPLOAD_MB"])
        else:
            check = check_ofd(data)
    return render_template(
        "certificates/verify_ofd.html",
        check=check,
        error=error,
        label=services.STATUS_LABELS[check.status] if check else None,
        basics=services.public_basics(check.snapshot) if check and check.snapshot else [],
    ), (422 if error else 200)


@bp.get("/.well-known/ofd-seal-ca.cer")
def seal_maker_certificate():
    """The seal maker's SM2 certificate (DER): the anchor an OFD verifier checks the electronic
    seals of this platform's OFD certificates against."""
    from .seals import authority

    response = current_app.response_class(authority().maker_cert, mimetype="application/pkix-cert")
    response.cache_control.max_age = 3600
    response.cache_control.public = True
    return response


# --------------------------------------------------------------------------- the issuing department


@bp.get("/review/certificates")
@require_role("officer")
def issued():
    return render_template(
        "certificates/issued.html",
        certificates=services.issued_by(current_user),
        status_of=services.status_of,
        labels=services.STATUS_LABELS,
        type_of=services.certificate_type,
        history=lifecycle.history,
    )


_DECISIONS = {"revoke": lifecycle.revoke, "suspend": lifecycle.suspend, "resume": lifecycle.resume}
#: What 吊销 will do, shown before it is done.
REVOKE_CONSEQUENCES = (
    _l("吊销立即生效：核验页面和合作部门的核验接口从此回答“已吊销”。"),
    _l("持证人将收到吊销通知，证照在其“我的证照”中标为已吊销，不能再出示使用。"),
    _l("吊销不能恢复；需要时只能重新申请办理。"),
)


@bp.post("/review/certificates/<identifier>/<any(revoke, suspend, resume):action>")
@require_role("officer")
def decide(identifier, action):
    certificate = services.find(identifier) or abort(404)
    if action == "revoke" and request.form.get("reason", "").strip() and request.form.get("confirmed") != "1":
        name = services.certificate_type(certificate.type_code).name
        return render_template(
            "_confirm.html",
            title=_("确认吊销：%(name)s %(id)s", name=name, id=identifier),
            consequences=REVOKE_CONSEQUENCES,
            quoted=request.form.get("reason"),
            quoted_label=_("吊销原因"),
            action=url_for("certificates.decide", identifier=identifier, action="revoke"),
            fields=[("reason", request.form.get("reason", ""))],
            confirm_label=_("确认吊销"),
            back=url_for("certificates.issued", _anchor=f"c-{certificate.id}"),
        )
    try:
        _DECISIONS[action](certificate.id, current_user, request.form.get("reason", ""))
        messages = {
            "revoke": _("证照 %(id)s 已吊销。", id=identifier),
            "suspend": _("证照 %(id)s 已暂停。", id=identifier),
            "resume": _("证照 %(id)s 已恢复有效。", id=identifier),
        }
        flash(messages[action], "success")
    except services.CertificateError as exc:
        flash(exc.message, "error")
    return redirect(url_for("certificates.issued", _anchor=f"c-{certificate.id}"))


@bp.route("/review/certificates/<identifier>/change", methods=["GET", "POST"])
@require_role("officer")
def change(identifier):
    certificate = services.find(identifier) or abort(404)
    if access.certificate_relation(current_user, certificate) is not access.Relation.OFFICER:
        abort(403)
    ctype = services.certificate_type(certificate.type_code)
    values, errors = certificate.data, {}
    if request.method == "POST":
        values = {f.name: request.form.get(f"field_{f.name}", "") for f in ctype.fields}
        try:
            new = lifecycle.supersede(certificate.id, current_user, values, request.form.get("reason", ""))
            flash(
                _("已换发新版本证照 %(new)s，原证照 %(old)s 已被替代。", new=new.identifier, old=identifier), "success"
            )
            return redirect(url_for("certificates.issued", _anchor=f"c-{new.id}"))
        except services.CertificateError as exc:
            errors[exc.field or "form"] = exc.message
    return render_template(
        "certificates/change.html",
        certificate=certificate,
        ctype=ctype,
        values=values,
        errors=errors,
        reason=request.form.get("reason", ""),
    ), 400 if errors else 200
