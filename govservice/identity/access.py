"""Who may open a page: staff areas by role, departments, levels of assurance, acting for an
enterprise; and `current_actor()`, the person (and enterprise) on whose behalf a request acts.

Staff areas are URL prefixes, enforced for every route under them before any view runs, so a
route added later is guarded even if its author forgot a decorator (fail closed):

    /window       clerk               (综合窗口)
    /review       officer             (部门审查)
    /supervision  supervisor, admin   (电子监察)
    /admin        admin               (系统管理)

A view that declares its roles with `require_role(...)` is held to those instead (its author
decided); the few routes under an area that others may open are listed in AREA_EXCEPTIONS.
Inside an area, views still check the department (or hall) of the object they act on with
`require_department`. tests/identity/test_role_matrix.py walks every route of the app with
every role and holds them to its own table.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import wraps

from flask import Flask, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import Forbidden

from ..audit import services as audit
from ..core.extensions import db, login_manager
from . import enterprises, sessions, staff
from .items import catalogue
from .models import Enterprise, Person

log = logging.getLogger(__name__)

STAFF_AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("/window", ("clerk",)),
    ("/review", ("officer",)),
    ("/supervision", ("supervisor", "admin")),
    ("/admin", ("admin",)),
)
PUBLIC, SIGNED_IN = "public", "signed_in"
#: Routes (by endpoint) under a staff area that others may open; the view checks the rest.
AREA_EXCEPTIONS: dict[str, str] = {
    "window.kiosk": PUBLIC,  # the hall's ticket machine (取号), used by anyone in the hall
    "window.document": SIGNED_IN,  # a notice: the applicant downloads their own (the view checks)
}
ACTING_KEY = "acting"
LEVEL_KEY = "loa"


def staff_area(path: str) -> tuple[str, tuple[str, ...]] | None:
    """The staff area a URL rule or path belongs to, as (prefix, roles), or None."""
    for prefix, roles in STAFF_AREAS:
        if path == prefix or path.startswith(prefix + "/"):
            return prefix, roles
    return None


class AccessRefused(Forbidden):
    """A refusal with its own message; rendered (and audited) by the handler in `init_app`."""

    def __init__(self, message=None, *, title=None, reason: str = "forbidden"):
        super().__init__()
        self.message = message or _l("您没有权限访问此页面。")
        self.title = title
        self.reason = reason


def refused_page(message, *, title=None, status: int = 403, reason: str = "forbidden", hint=None):
    """The page that says no: audited when someone is signed in; nothing else is written."""
    if current_user.is_authenticated:
        db.session.rollback()
        audit.record(
            "access.denied",
            actor=current_user._get_current_object(),
            subject=request.path[:128],
            detail={"method": request.method, "reason": reason},
        )
        db.session.commit()
    log.info("refused %s %s: %s", request.method, request.path, reason)
    return render_template("identity/refused.html", title=title or _l("无法访问"), message=message, hint=hint), status


# --- the actor ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """The signed-in person and, when acting for one, the enterprise (person for enterprise)."""

    person: Person
    enterprise: Enterprise | None = None
    basis: str | None = None  # "legal_representative" | "agent"
    grant_id: int | None = None
    level: int = 1

    @property
    def enterprise_id(self) -> int | None:
        return self.enterprise.id if self.enterprise else None

    @property
    def label(self) -> str:
        if self.enterprise is None:
            return self.person.masked_name
        return str(
            _l("%(person)s（代表 %(enterprise)s）", person=self.person.masked_name, enterprise=self.enterprise.name)
        )


def current_level() -> int:
    """The level of assurance of this session's sign-in (or step-up)."""
    return int(session.get(LEVEL_KEY, 1)) if current_user.is_authenticated else 0


def current_actor() -> Actor | None:
    """Who acts in this request: None when signed out. Checked against the grant on every
    request (see `_check_acting`), so it is never stale."""
    if not current_user.is_authenticated:
        return None
    if "identity_actor" not in g:
        option = g.get("identity_acting_option")
        g.identity_actor = Actor(
            person=current_user._get_current_object(),
            level=current_level(),
            enterprise=option.enterprise if option else None,
            basis=option.basis if option else None,
            grant_id=option.grant.id if option and option.grant else None,
        )
    return g.identity_actor


# --- decorators -----------------------------------------------------------------------------


def require_role(*roles: str):
    """Signed in and holding one of `roles`; others get a clear 403 page, audited."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                raise AccessRefused(reason=f"role:{'|'.join(roles)}")
            return view(*args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator


def require_department(role: str, department_id: int | None) -> None:
    """Raise AccessRefused unless the signed-in person holds `role` for this department."""
    if not current_user.is_authenticated or role not in current_user.roles(department_id):
        raise AccessRefused(_l("该办件不属于您所在的部门，您无权处理。"), reason=f"department:{role}:{department_id}")


def _step_up(level: int):
    target = request.full_path.rstrip("?") if request.method == "GET" else request.path
    return redirect(url_for("identity.step_up", level=level, next=target))


def require_level(level: int):
    """Signed in at `level` or above; below it, the person is asked to step up first."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_level() < level:
                return _step_up(level)
            return view(*args, **kwargs)

        wrapped.required_level = level
        return wrapped

    return decorator


def require_item_access(code_arg: str = "code"):
    """For a view applying for a service item (`/apply/<code>`): below the item's level of
    assurance the person steps up first; acting for an enterprise as its agent, the grant must
    cover the item (the application is the enterprise's: `current_actor().enterprise`)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            item = catalogue().current_item(kwargs.get(code_arg, ""))
            if item is None:
                return view(*args, **kwargs)
            if current_level() < item.level_of_assurance:
                return _step_up(item.level_of_assurance)
            option = g.get("identity_acting_option")
            if option is not None and item.audience != "person" and not enterprises.may_handle_item(option, item.code):
                return refused_page(
                    _l(
                        "您对“%(enterprise)s”的经办授权不包含事项“%(item)s”。",
                        enterprise=option.enterprise.name,
                        item=item.name,
                    ),
                    title=_l("授权范围不包含该事项"),
                    reason=f"grant_scope:{item.code}",
                    hint=_l("请联系企业法定代表人扩大授权范围，或切换回本人身份办理。"),
                )
            return view(*args, **kwargs)

        return wrapped

    return decorator


# --- hooks run before every request ---------------------------------------------------------


def _explain_ended_session():
    ended = getattr(session, "ended", None)
    if ended and request.endpoint != "static":
        session.ended = None
        flash(
            _l("您已超过12小时未重新登录，为保护您的信息已自动退出，请重新登录。")
            if ended == "absolute"
            else _l("您长时间未操作，为保护您的信息已自动退出，请重新登录。"),
            "info",
        )


def _keep_staff_flag():
    """A role given or taken mid-session changes the idle timeout from the next request on."""
    if not session:  # no session, nobody signed in: nothing to load (most public requests)
        return
    if request.endpoint != "static" and current_user.is_authenticated:
        staff_now = current_user.is_staff
        if bool(session.get(sessions.STAFF_FLAG)) != staff_now:
            session[sessions.STAFF_FLAG] = staff_now


def _check_acting():
    """End "acting as" at once when its basis is gone (grant revoked or expired)."""
    acting = session.get(ACTING_KEY) if session and request.endpoint != "static" else None
    if not acting:
        return None
    if not current_user.is_authenticated:
        session.pop(ACTING_KEY, None)
        return None
    person = current_user._get_current_object()
    option = enterprises.still_entitled(person, acting["enterprise_id"], acting["basis"], acting.get("grant_id"))
    if option is not None:
        g.identity_acting_option = option
        return None
    session.pop(ACTING_KEY, None)
    enterprise = enterprises.acting_ended(person, acting["enterprise_id"], acting.get("grant_id"))
    name = enterprise.name if enterprise else ""
    return render_template(
        "identity/refused.html",
        title=_l("代表企业办事已结束"),
        message=_l("您代表“%(name)s”办事的授权已被撤销或已到期，现已切换回本人身份。本次操作未执行。", name=name),
        hint=_l("如需继续代表该企业办事，请联系企业法定代表人重新授权。"),
    ), 403


def _guard_staff_areas():
    rule = request.url_rule
    area = staff_area(rule.rule) if rule is not None else None
    if area is None:
        return None
    exception = AREA_EXCEPTIONS.get(request.endpoint)
    if exception == PUBLIC:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if exception == SIGNED_IN:
        return None
    view = current_app.view_functions.get(request.endpoint)
    roles = getattr(view, "required_roles", None) or area[1]
    if not current_user.has_role(*roles):
        roles = "、".join(staff.role_label(r) for r in roles)
        return refused_page(
            _l("您没有权限访问此页面。"),
            reason=f"area:{area[0]}",
            hint=_l("此页面仅限%(roles)s使用。如需开通，请联系系统管理员。", roles=roles),
        )
    return None


def init_app(app: Flask) -> None:
    app.before_request(_explain_ended_session)
    app.before_request(_guard_staff_areas)
    app.before_request(_check_acting)
    app.before_request(_keep_staff_flag)

    @app.errorhandler(AccessRefused)
    def _refused(exc: AccessRefused):
        return refused_page(exc.message, title=exc.title, reason=exc.reason)

    @app.context_processor
    def _identity_context():
        return {
            "current_actor": current_actor,
            "acting_options": _acting_options,
            "role_label": staff.role_label,
            "current_level": current_level,
        }


def _acting_options():
    """For the "acting as" switch in the page header; an error page must render even when the
    database cannot answer, so a failure here only hides the switch."""
    try:
        if not current_user.is_authenticated:
            return []
        return enterprises.acting_options(current_user._get_current_object())
    except SQLAlchemyError:
        log.exception("acting options unavailable")
        return []
