"""The home page and the language switch."""

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from govservice.cases import popular
from govservice.catalog import services as catalog
from govservice.core.config import LOCALES
from govservice.core.extensions import csrf
from govservice.security import safe_path

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    """Search first; 个人办事 / 法人办事 by life event; 热门事项 by real use; 进度查询."""
    items = catalog.list_items()
    facets = catalog.facets()
    by_audience = {
        audience: [i for i in items if i.audience in catalog.AUDIENCE_MATCHES[audience]]
        for audience in ("person", "enterprise")
    }
    return render_template(
        "home.html", popular=popular.popular(items), events=facets["events"], by_audience=by_audience
    )


#: Each staff role's console, in the order a person holding several is sent to.
CONSOLES = (
    ("clerk", "window.queue"),
    ("officer", "review.inbox"),
    ("supervisor", "supervision.dashboard"),
    ("admin", "staff_admin.index"),
)


@bp.get("/start")
@login_required
def start():
    """Where staff land after signing in: their own console (the home page is the citizens')."""
    for role, endpoint in CONSOLES:
        if current_user.has_role(role):
            return redirect(url_for(endpoint))
    return redirect(url_for("main.home"))


@bp.post("/lang")
@csrf.exempt  # switching the language is harmless; a token would make every signed-out page store a session
def set_language():
    lang = request.form.get("lang")
    if lang in LOCALES:
        session["lang"] = lang
    return redirect(safe_path(request.form.get("next")) or url_for("main.home"))


@bp.get("/healthz")
def health():
    return {"status": "ok"}
