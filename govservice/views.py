"""The home page and the language switch."""
from flask import Blueprint, redirect, render_template, request, session, url_for

from . import LOCALES
from .catalog import services as catalog
from .extensions import csrf
from .security import safe_path

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    return render_template("home.html", items=catalog.list_items())


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
