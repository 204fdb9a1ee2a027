"""The service catalogue and each item's guide (办事指南)."""
from flask import Blueprint, abort, render_template

from . import services

bp = Blueprint("catalog", __name__, url_prefix="/items")


@bp.get("/")
def index():
    return render_template("catalog/index.html", items=services.list_items())


@bp.get("/<code>")
def guide(code):
    item = services.current_item(code) or abort(404)
    return render_template("catalog/guide.html", item=item)
