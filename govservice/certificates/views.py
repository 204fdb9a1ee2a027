"""我的证照 (the wallet), the public verification page behind the QR, the JWKS, revocation."""
import io

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from ..extensions import limiter
from ..identity.access import require_role
from . import services

bp = Blueprint("certificates", __name__)


@bp.get("/wallet")
@login_required
def wallet():
    return render_template("certificates/wallet.html", certificates=services.wallet(current_user),
                           status_of=services.status_of, labels=services.STATUS_LABELS,
                           type_of=services.certificate_type)


@bp.get("/wallet/<identifier>.pdf")
@login_required
def download(identifier):
    certificate = services.find(identifier) or abort(404)
    if certificate.holder_id != current_user.id and "officer" not in current_user.roles(certificate.issuer_id):
        abort(403)
    name = f"{services.certificate_type(certificate.type_code).name}-{certificate.identifier}.pdf"
    return send_file(io.BytesIO(services.pdf_bytes(certificate)), mimetype="application/pdf",
                     download_name=name, as_attachment=True)


@bp.get("/v/<path:token>")
@limiter.limit("60/minute")
def verify(token):
    status, certificate = services.verify_token(token, channel="page", verifier="公开核验页面")
    return render_template(
        "certificates/verify.html", status=status, label=services.STATUS_LABELS[status],
        basics=services.public_basics(certificate) if certificate else [],
    ), 200 if status != "forged" else 404


@bp.get("/.well-known/jwks.json")
def jwks():
    response = jsonify(current_app.extensions["token_keys"].public_jwks())
    response.cache_control.max_age = 300
    response.cache_control.public = True
    return response


@bp.get("/review/certificates")
@require_role("officer")
def issued():
    return render_template("certificates/issued.html", certificates=services.issued_by(current_user),
                           status_of=services.status_of, labels=services.STATUS_LABELS,
                           type_of=services.certificate_type)


@bp.post("/review/certificates/<identifier>/revoke")
@require_role("officer")
def revoke(identifier):
    certificate = services.find(identifier) or abort(404)
    try:
        services.revoke(certificate.id, current_user, request.form.get("reason", ""))
        flash(f"证照 {identifier} 已吊销。", "success")
    except services.CertificateError as exc:
        flash(exc.message, "error")
    return redirect(url_for("certificates.issued"))
