"""自助终端 (/kiosk): the terminal's screens, and its registration by administrators (/admin/kiosks).

Every /kiosk page but the enrollment screen answers only a registered, enrolled terminal (its
cookie, checked in `_terminal`); any other browser is sent to enrollment. A person signed in at
a terminal stays within /kiosk (`_confine`), is signed out after `KIOSK_IDLE_SECONDS` without a
touch (by the page, and by the server if the page did not), and on 退出 the response deletes
the session and tells the browser to drop its cache and storage. No kiosk page is cached.
"""

from __future__ import annotations

import base64
import io

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from .. import access
from ..cases import applying, queries
from ..cases import services as cases
from ..cases.forms import (
    application_form,
    chosen_certificates,
    refuse_upload,
    submitted_notice,
    submitted_url,
    uploaded_files,
    values,
)
from ..cases.statemachine import label as state_label
from ..cases.uploads import UploadRefused
from ..catalog import services as catalog
from ..certificates import queries as certificate_queries
from ..certificates import services as certificates
from ..core import clock, pii
from ..core.extensions import csrf, limiter
from ..identity import sessions
from ..identity.access import LEVEL_KEY
from ..window.documents import progress_url
from . import services
from .admin_views import bp as admin_bp
from .cli import register_commands

bp = Blueprint("kiosk", __name__, template_folder="templates", static_folder="static", static_url_path="/kiosk/static")
bp.record_once(lambda state: services.init_app(state.app))
register_commands(bp)
bp.register_blueprint(admin_bp)  # /admin/kiosks: the administrators' list of terminals

DEVICE_COOKIE = "kiosk_device"
#: Session keys: the terminal a person signed in at, and when they last touched it.
KIOSK_KEY, SEEN_KEY, NONCE_KEY = "_kiosk", "_kiosk_seen", "_kiosk_nonce"
#: The server signs out a few seconds after the page should have (its timer may be late); the
#: session store ends the session a little later still, should no request come at all.
SERVER_GRACE, STORE_GRACE = 15, 30
OPEN_ENDPOINTS = ("kiosk.static", "kiosk.enroll")


def _on_terminal() -> bool:
    return request.path == "/kiosk" or request.path.startswith("/kiosk/")


def _end_session(reason: str) -> None:
    person = current_user._get_current_object() if current_user.is_authenticated else None
    device = g.get("kiosk_device")
    logout_user()
    session.clear()
    sessions.regenerate(session)
    services.sign_out(person, device, reason)


@bp.before_request
def _terminal():
    if not _on_terminal() or request.endpoint in OPEN_ENDPOINTS:
        return None
    device = services.authenticate(request.cookies.get(DEVICE_COOKIE))
    if device is None:
        if current_user.is_authenticated:
            _end_session("terminal_refused")
        return redirect(url_for("kiosk.enroll"))
    g.kiosk_device = device
    if current_user.is_authenticated:
        if session.get(KIOSK_KEY) != device.id:  # signed in elsewhere, not at this terminal: not here
            _end_session("not_kiosk_session")
            return redirect(url_for("kiosk.welcome"))
        now = clock.now().timestamp()
        if now - float(session.get(SEEN_KEY) or 0) > services.idle_seconds() + SERVER_GRACE:
            _end_session("idle")
            flash(_("上一位用户长时间未操作，已自动退出。"), "info")
            return redirect(url_for("kiosk.welcome"))
        if request.endpoint != "kiosk.alive" or request.method == "POST":
            session[SEEN_KEY] = now
    return None


@bp.before_app_request
def _confine():
    """A session begun at a terminal is for the terminal only: the rest of the site is not shown
    there (no link leads out, and a typed address comes back)."""
    if not session or KIOSK_KEY not in session or _on_terminal():  # `in`: no Vary: Cookie for everyone
        return None
    if request.endpoint in ("static", "main.set_language"):  # the language switch sends the terminal back
        return None
    return redirect(url_for("kiosk.welcome"))


@bp.after_request
def _no_store(response):
    if _on_terminal():
        response.headers["Cache-Control"] = "no-store"
    return response


def _device():
    return g.kiosk_device


def _signed_in() -> bool:
    return current_user.is_authenticated and session.get(KIOSK_KEY) == _device().id


def _page(template, status=200, **context):
    return render_template(
        template, device=_device(), signed_in=_signed_in(), idle_seconds=services.idle_seconds(), **context
    ), status


def _need_person():
    if not _signed_in():
        flash(_("请先刷身份证登录。"), "info")
        return redirect(url_for("kiosk.welcome"))
    return None


# --- enrollment (启用终端) ---------------------------------------------------------------------


@bp.route("/kiosk/enroll", methods=["GET", "POST"])
@limiter.limit("10/minute", methods=["POST"])
@csrf.exempt  # no session for a browser that is no terminal (a crawler sent here); the one-time code,
# which only an administrator receives, is what a forged cross-site post cannot bring
def enroll():
    error = None
    if request.method == "POST":
        try:
            device, credential = services.enroll(request.form.get("code", ""))
        except services.KioskError as exc:
            error = exc.message
        else:
            response = redirect(url_for("kiosk.welcome"))
            response.set_cookie(
                DEVICE_COOKIE,
                credential,
                max_age=5 * 365 * 24 * 3600,
                path="/kiosk",
                httponly=True,
                secure=current_app.config.get("PUBLIC_URL", "").startswith("https://"),
                samesite="Strict",
            )
            flash(_("终端“%(name)s”已启用。", name=device.name), "success")
            return response
    return render_template("kiosk/enroll.html", error=error, device=None, signed_in=False, idle_seconds=0), (
        422 if error else 200
    )


# --- signing in and out ------------------------------------------------------------------------


@bp.get("/kiosk/")
def welcome():
    if _signed_in():
        return _page("kiosk/menu.html")
    reader = services.reader()
    nonce = session.get(NONCE_KEY)
    if reader.signed and not nonce:
        import secrets

        nonce = session[NONCE_KEY] = secrets.token_urlsafe(16)
    return _page("kiosk/welcome.html", reader=reader, nonce=nonce)


@bp.post("/kiosk/card")
@limiter.limit("30/minute")
def card():
    device = _device()
    if _signed_in():
        _end_session("next_card")
    try:
        reading = services.reader().read(device, request.form, session.pop(NONCE_KEY, None))
        person = services.sign_in(device, reading)
    except (services.ReadingRefused, services.KioskError) as exc:
        flash(exc.message, "error")
        return redirect(url_for("kiosk.welcome"))
    lang = session.get("lang")
    session.clear()
    sessions.regenerate(session)
    if lang:
        session["lang"] = lang
    login_user(person)
    session[LEVEL_KEY] = services.KIOSK_LEVEL
    session[KIOSK_KEY] = device.id
    session[SEEN_KEY] = clock.now().timestamp()
    session[sessions.IDLE_LIMIT] = services.idle_seconds() + STORE_GRACE
    return redirect(url_for("kiosk.welcome"))


@bp.post("/kiosk/sign-out")
@csrf.exempt  # signing out must work even when the session (and its CSRF token) already ended; it only ends one
def sign_out():
    reason = "idle" if request.form.get("reason") == "idle" else "button"
    if current_user.is_authenticated:
        _end_session(reason)
    else:
        session.clear()
    if reason == "idle":
        flash(_("您长时间未操作，已自动退出。"), "info")
    response = redirect(url_for("kiosk.welcome"))
    response.headers["Clear-Site-Data"] = '"cache", "storage"'  # not "cookies": the terminal's own stays
    return response


@bp.route("/kiosk/alive", methods=["POST"])
def alive():
    """The page's keep-alive while someone is typing or reading (a touch on the page counts)."""
    return ("", 204) if _signed_in() else ("", 401)


# --- applying ------------------------------------------------------------------------------------


@bp.get("/kiosk/items")
def items():
    return _need_person() or _page("kiosk/items.html", items=services.items())


@bp.route("/kiosk/apply/<code>", methods=["GET", "POST"])
def apply(code):
    if (refused := _need_person()) is not None:
        return refused
    item = catalog.current_item(code)
    if item is None or item not in services.items():
        abort(404)
    person = current_user._get_current_object()
    try:
        context = applying.open_form(person, item, None, level=services.KIOSK_LEVEL, record=request.method == "GET")
    except cases.CaseError as exc:
        flash(exc.message, "error")
        return redirect(url_for("kiosk.items"))
    form = application_form(item, context.prefill.values, formdata=None, held=context.held, kept={})
    status = 200
    if form.validate_on_submit():
        try:
            case, created = applying.submit(
                person,
                item,
                values(form, item),
                uploaded_files(form, item),
                chosen_certificates(form, item),
                form.idempotency_key.data,
                level=services.KIOSK_LEVEL,
                context=context,
            )
        except UploadRefused as exc:
            refuse_upload(form, item, exc)
            status = 422
        except cases.CaseError as exc:
            flash(exc.message, "error")
            status = 422
        else:
            return redirect(submitted_url("kiosk.case", case, created))
    elif request.method == "POST":
        flash(_("申请未提交：请按提示修改标出的内容。"), "error")
        status = 422
    applying.record_form_lookups(person, context)
    return _page(
        "kiosk/apply.html",
        status,
        item=item,
        form=form,
        readonly=applying.readonly_fields(item, context.prefill),
        certificate_type_name=catalog.certificate_type_name,
    )


# --- my cases and receipts -----------------------------------------------------------------------


@bp.get("/kiosk/cases")
def my_cases():
    if (refused := _need_person()) is not None:
        return refused
    return _page(
        "kiosk/cases.html",
        cases=queries.cases_of(current_user._get_current_object(), request.args.get("page"), size=6),
        state_label=state_label,
    )


def _own_case(number):
    case, _relation = access.case_for(current_user, number, only=frozenset({access.Relation.APPLICANT}))
    return case


def _masked(value: str) -> str:
    return pii.mask_id_number(value) if len(value) in (15, 18) else pii.mask_name(value)


def _qr_data_uri(value: str) -> str:
    import qrcode

    image = qrcode.make(value, box_size=6, border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@bp.get("/kiosk/cases/<number>")
def case(number):
    if (refused := _need_person()) is not None:
        return refused
    case = _own_case(number)
    return _page("kiosk/case.html", case=case, acknowledgement=submitted_notice(case), state_label=state_label)


@bp.get("/kiosk/cases/<number>/receipt")
def receipt(number):
    """打印回执: the receipt of an application, printed at the terminal (the print is audited)."""
    if (refused := _need_person()) is not None:
        return refused
    case = _own_case(number)
    services.record_print(current_user._get_current_object(), _device(), "receipt", f"case:{case.number}", case.id)
    from ..progress import services as progress

    return _page(
        "kiosk/receipt.html",
        case=case,
        state_label=state_label,
        query_code=progress.query_code(case.number),
        qr=_qr_data_uri(progress_url(case)),
        printed_at=clock.now(),
    )


# --- my certificates -----------------------------------------------------------------------------


@bp.get("/kiosk/certificates")
def my_certificates():
    if (refused := _need_person()) is not None:
        return refused
    return _page(
        "kiosk/certificates.html",
        certificates=certificate_queries.wallet(current_user._get_current_object(), request.args.get("page"), size=6),
        status_of=certificates.status_of,
        labels=certificates.STATUS_LABELS,
        type_of=certificates.certificate_type,
    )


@bp.get("/kiosk/certificates/<identifier>/print")
def print_certificate(identifier):
    """打印证照: a printed copy with the QR that verifies it online (the print is audited)."""
    if (refused := _need_person()) is not None:
        return refused
    person = current_user._get_current_object()
    certificate, relation = access.certificate_for(person, identifier)
    if relation.staff:
        abort(404)
    if certificates.status_of(certificate) != "valid":
        flash(_("该证照已失效，不能打印。"), "error")
        return redirect(url_for("kiosk.my_certificates"))
    services.record_print(
        person, _device(), "certificate", f"certificate:{certificate.identifier}", certificate.case_id
    )
    kind = certificates.certificate_type(certificate.type_code)
    data = certificate.data
    # A paper copy may be left in the tray: what the type masks is masked on it too (the QR shows the rest).
    rows = [
        (f.label, _masked(str(data[f.name])) if f.masked else data[f.name]) for f in kind.fields if data.get(f.name)
    ]
    return _page(
        "kiosk/certificate.html",
        certificate=certificate,
        kind=kind,
        rows=rows,
        qr=_qr_data_uri(certificates.verify_url(certificate.token)),
        printed_at=clock.now(),
    )
