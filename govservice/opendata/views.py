"""政务公开 and open data: public, no sign-in, no session (the pages use the public header, which
reads none), each dataset with a public Cache-Control."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from flask_babel import lazy_gettext as _l

from ..catalog import services as catalog
from ..certificates import services as certificates
from . import services

bp = Blueprint("opendata", __name__, url_prefix="/open")
STATUS = {"valid": _l("有效"), "suspended": _l("已暂停"), "revoked": _l("已吊销"), "superseded": _l("已被新证替代")}


def _cached(response: Response) -> Response:
    response.headers["Cache-Control"] = f"public, max-age={services.CACHE_SECONDS}"
    response.headers["Access-Control-Allow-Origin"] = "*"  # open data: any site may read it
    return response


@bp.get("/")
def index():
    return render_template("opendata/index.html", items=catalog.list_items(), licence=services.LICENCE, k=services.K)


@bp.get("/items/<code>")
def item(code):
    found = catalog.current_item(code) or abort(404)
    return render_template("opendata/item.html", item=found, figures=services.item_figures(code), k=services.K)


@bp.get("/licences")
def licences():
    def type_name(code):
        try:
            return certificates.certificate_type(code).name
        except KeyError:  # a type removed from licenses/ still shows its code
            return code

    return render_template(
        "opendata/licences.html", rows=services.licences(request.args.get("page")), type_name=type_name, status=STATUS
    )


@bp.get("/data/")
def dictionary():
    return render_template("opendata/dictionary.html", fields=services.FIELDS, licence=services.LICENCE, k=services.K)


@bp.get("/data/datapackage.json")
def datapackage():
    return _cached(jsonify(services.datapackage(current_app.config["PUBLIC_URL"].rstrip("/"))))


@bp.get("/data/monthly.json")
def monthly_json():
    return _cached(jsonify(licence=services.LICENCE, suppressed_below=services.K, rows=services.monthly()))


@bp.get("/data/monthly.csv")
def monthly_csv():
    return _cached(
        Response(
            services.monthly_csv(services.monthly()),
            mimetype="text/csv; charset=utf-8",
            headers={"Content-Disposition": "attachment; filename=monthly-statistics.csv"},
        )
    )
