"""The audit log on the web.

Public (no sign-in, nothing read from or written to a session), so that anyone can keep copies
of the checkpoints and check proofs against the published key:

    /audit/                               what the log is, its key and these URLs (JSON)
    /audit/checkpoint                     the latest checkpoint, as a signed note (text/plain)
    /audit/checkpoint/<size>              the checkpoint of that tree size
    /audit/checkpoints?after=N&limit=100  every checkpoint, smallest first, paginated (JSON)
    /audit/proof/<entry id>?tree_size=N   RFC 6962 inclusion proof of one sealed entry (JSON)
    /audit/consistency?first=M&second=N   RFC 6962 consistency proof between two sizes (JSON)
    /.well-known/audit-checkpoint-key     the verifier key (signed-note form, text/plain)
    /.well-known/audit-checkpoint-key.pem the same Ed25519 public key as PEM

Staff: /supervision/audit/ (supervisors and administrators, guarded by the /supervision prefix)
lists and filters the log, newest first, keyset-paginated, with personal data masked.
"""

from __future__ import annotations

import base64
import json
from datetime import date

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..core import clock
from ..core.extensions import db
from . import checkpoint as cp
from . import proofs, services

bp = Blueprint("audit", __name__)
staff_bp = Blueprint("audit_log", __name__, url_prefix="/supervision/audit")

MAX_PAGE = 1000


def _b64(h: bytes) -> str:
    return base64.b64encode(h).decode()


def _public(response: Response, max_age: int = 0) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    return response


def _text(body: str, status: int = 200, max_age: int = 0) -> Response:
    return _public(current_app.response_class(body, status=status, mimetype="text/plain"), max_age)


def _json(data: dict, status: int = 200, max_age: int = 0) -> Response:
    response = jsonify(data)
    response.status_code = status
    return _public(response, max_age)


def _int_arg(name: str, default=None):
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        abort(_json({"error": f"{name} must be an integer"}, 400))


def _checkpoint_json(row) -> dict:
    return {
        "tree_size": row.tree_size,
        "root_hash": _b64(bytes.fromhex(row.root_hash)),
        "time": cp.parse(row.note).time,
        "note": row.note,
    }


@bp.get("/audit/")
def index():
    keys = cp.keys()
    latest = services.latest_checkpoint()
    return _json(
        {
            "origin": keys.name,
            "verifier_key": keys.vkey,
            "tree_size": latest.tree_size if latest else 0,
            "hashes": "RFC 6962: leaf = SHA-256(0x00 || entry), node = SHA-256(0x01 || left || right); base64",
            "checkpoint_format": "C2SP tlog-checkpoint in a C2SP signed note (Ed25519), extension line 'time <UTC>'",
            "urls": {
                "checkpoint": url_for("audit.latest", _external=True),
                "checkpoints": url_for("audit.list_checkpoints", _external=True),
                "proof": url_for("audit.index", _external=True) + "proof/{entry_id}?tree_size={n}",
                "consistency": url_for("audit.consistency", _external=True) + "?first={m}&second={n}",
                "key": url_for("audit.key", _external=True),
                "key_pem": url_for("audit.key_pem", _external=True),
            },
        }
    )


@bp.get("/audit/checkpoint")
def latest():
    row = services.latest_checkpoint()
    if row is None:
        return _text("no checkpoint yet\n", 404)
    return _text(row.note)


@bp.get("/audit/checkpoint/<int:size>")
def checkpoint_of_size(size):
    row = services.checkpoint_of_size(size)
    if row is None:
        return _text("no checkpoint of this tree size\n", 404)
    return _text(row.note, max_age=86400)  # a checkpoint never changes


@bp.get("/audit/checkpoints")
def list_checkpoints():
    after = _int_arg("after", -1)
    limit = min(max(_int_arg("limit", 100), 1), MAX_PAGE)
    rows = services.checkpoints(after=after, limit=limit)
    more = len(rows) == limit and services.checkpoints(after=rows[-1].tree_size, limit=1)
    return _json(
        {
            "checkpoints": [_checkpoint_json(r) for r in rows],
            "next": url_for("audit.list_checkpoints", after=rows[-1].tree_size, limit=limit, _external=True)
            if more
            else None,
        }
    )


@bp.get("/audit/proof/<int:entry_id>")
def proof(entry_id):
    leaf = proofs.leaf_of(entry_id)
    if leaf is None:
        return _json({"error": "no sealed entry with this id (it may not be sealed yet)"}, 404)
    index, leaf_hash = leaf
    size = _int_arg("tree_size") or proofs.sealed_size()
    try:
        path = proofs.inclusion(index, size)
    except proofs.ProofError as exc:
        return _json({"error": str(exc)}, 400)
    signed = services.checkpoint_of_size(size)
    return _json(
        {
            "entry_id": entry_id,
            "leaf_index": index,
            "tree_size": size,
            "leaf_hash": _b64(leaf_hash),
            "audit_path": [_b64(h) for h in path],
            "checkpoint": signed.note if signed else None,
        }
    )


@bp.get("/audit/consistency")
def consistency():
    first, second = _int_arg("first"), _int_arg("second")
    if first is None or second is None:
        return _json({"error": "first and second (tree sizes) are required"}, 400)
    try:
        path = proofs.consistency(first, second)
    except proofs.ProofError as exc:
        return _json({"error": str(exc)}, 400)
    return _json({"first": first, "second": second, "consistency": [_b64(h) for h in path]}, max_age=86400)


@bp.get("/.well-known/audit-checkpoint-key")
def key():
    return _text(cp.keys().vkey + "\n", max_age=3600)


@bp.get("/.well-known/audit-checkpoint-key.pem")
def key_pem():
    response = current_app.response_class(cp.keys().public_pem(), mimetype="application/x-pem-file")
    return _public(response, 3600)


# --- staff: the log itself ---------------------------------------------------------------------


def _filters() -> tuple[services.Filters, dict, list[str]]:
    """Filters from the query string; problems are explained and that filter is ignored."""
    from ..cases.models import Case
    from ..identity.services import find_person
    from ..supervision import services as supervision

    form = {k: (request.args.get(k) or "").strip() for k in ("action", "actor", "case", "subject", "from", "to")}
    problems, values = [], {}
    if form["action"]:
        values["action"] = form["action"]
    if form["actor"]:
        raw = form["actor"]
        if raw.lstrip("#").isdigit() and len(raw.lstrip("#")) <= 10:
            values["actor_id"] = int(raw.lstrip("#"))
        else:
            person = find_person(raw)
            values["actor_id"] = person.id if person else -1
            if person is None:
                problems.append(_("没有找到身份证号码为该号码的人员。"))
    if form["case"]:
        found = db.session.execute(select(Case.id).where(Case.number == form["case"])).scalar()
        values["case_id"] = found if found is not None else -1
        if found is None:
            problems.append(_("没有找到该办件编号。"))
    if form["subject"]:
        values["subject"] = form["subject"]
    days = {}
    for key in ("from", "to"):
        if form[key]:
            try:
                days[key] = date.fromisoformat(form[key])
            except ValueError:
                problems.append(_("日期格式不正确，请按“年-月-日”填写（如 2026-11-01）。"))
    if days.get("from") and days.get("to") and days["from"] > days["to"]:
        problems.append(_("开始日期不能晚于结束日期。"))
        days = {}
    values["start"], values["end"] = services.day_range(days.get("from"), days.get("to"))
    scope = supervision.scope(current_user)
    values["departments"] = tuple(scope) if scope is not None else None
    return services.Filters(**values), form, problems


@staff_bp.get("/")
def log():
    from ..cases.models import Case
    from ..identity.models import Person

    filters, form, problems = _filters()
    before = _int_arg("before")
    rows, next_before = services.search(filters, before=before, limit=50)
    people = {
        p.id: p
        for p in db.session.execute(
            select(Person).where(Person.id.in_({r.actor_id for r in rows if r.actor_id}))
        ).scalars()
    }
    numbers = dict(
        db.session.execute(
            select(Case.id, Case.number).where(Case.id.in_({r.case_id for r in rows if r.case_id}))
        ).all()
    )
    shown = [
        {
            "entry": r,
            "actor": people.get(r.actor_id),
            "case_number": numbers.get(r.case_id),
            "when": r.at.astimezone(clock.BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
            "subject": services.mask_text(r.subject),
            "purpose": services.mask_text(r.purpose),
            "detail": services.mask_text(json.dumps(r.detail, ensure_ascii=False, sort_keys=True)) if r.detail else "",
        }
        for r in rows
    ]
    query = {k: v for k, v in form.items() if v}

    def link(**changes):
        return url_for("audit_log.log", **(query | {k: str(v) for k, v in changes.items()}))

    return render_template(
        "audit/log.html",
        rows=shown,
        form=form,
        problems=problems,
        query=query,
        link=link,
        next_before=next_before,
        first_page=before is not None,
        latest=services.latest_checkpoint(),
        lag=services.lag(),
        actions=services.actions(),
        scoped=filters.departments is not None,
    ), (422 if problems else 200)
