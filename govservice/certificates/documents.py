"""The certificate as an OFD document (GB/T 33190), from the same layout data as its PDF.

Made on its first download, not at issuance: subsetting the CJK font costs about a second, which
no issuance should wait for; the package is then kept as a blob and served again. Its QR carries
a freshly signed short reference to the same certificate (``shortref.py``).
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import update

from .. import blobs
from ..extensions import db
from . import identifiers, issuance, shortref
from .models import Certificate


def ofd_bytes(certificate: Certificate) -> bytes:
    """The certificate's OFD package; rendered and stored on first use (commits then)."""
    if certificate.ofd_blob_key:
        return blobs.store().get(certificate.ofd_blob_key)
    from .. import ofd
    from .services import certificate_type, pdf_font, reference_url
    ctype = certificate_type(certificate.type_code)
    font = pdf_font()
    if font.path is None:
        raise RuntimeError("no CJK TrueType font to embed in the OFD (install fonts-wqy-zenhei or set CJK_FONT)")
    serial = int(identifiers.parse_identifier(certificate.identifier).serial)
    reference = shortref.make(current_app.extensions["token_keys"], ctype.code, certificate.issuer.code, serial,
                              certificate.version)
    data = ofd.render_certificate_ofd(
        **issuance.layout(ctype, certificate.data, certificate.identifier, certificate.issuer.name,
                          certificate.issued_at, certificate.expires_at, reference_url(reference)),
        font_path=font.path)
    key = blobs.store().put(data)
    # two first downloads at once: one key is kept, both answers are valid renderings
    db.session.execute(update(Certificate).where(Certificate.id == certificate.id, Certificate.ofd_blob_key.is_(None))
                       .values(ofd_blob_key=key).execution_options(synchronize_session=False))
    db.session.commit()
    return data
