"""The certificate as an OFD document (GB/T 33190), from the same layout data as its PDF.

Made on its first download, not at issuance: subsetting the CJK font costs about a second, which
no issuance should wait for; the package is then kept as a blob and served again. Its QR carries
a freshly signed short reference to the same certificate (``shortref.py``).
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select, update

from ..core import blobs, pdfkit
from ..core.extensions import db
from . import identifiers, issuance, shortref
from .models import Certificate


def ofd_bytes(certificate: Certificate) -> bytes:
    """The certificate's OFD package; rendered and stored on first use (commits then)."""
    if certificate.ofd_blob_key:
        return blobs.store().get(certificate.ofd_blob_key)
    from .. import ofd
    from .services import certificate_type, reference_url

    ctype = certificate_type(certificate.type_code)
    font = pdfkit.font()
    if font.path is None:
        raise RuntimeError("no CJK TrueType font to embed in the OFD (install fonts-wqy-zenhei or set CJK_FONT)")
    serial = int(identifiers.parse_identifier(certificate.identifier).serial)
    reference = shortref.make(
        current_app.extensions["token_keys"], ctype.code, certificate.issuer.code, serial, certificate.version
    )
    data = ofd.render_certificate_ofd(
        **issuance.layout(
            ctype,
            certificate.data,
            certificate.identifier,
            certificate.issuer.name,
            certificate.issued_at,
            certificate.expires_at,
            reference_url(reference),
        ),
        font_path=font.path,
    )
    from ..core import clock
    from .seals import seal_ofd

    data = seal_ofd(  # the issuing department's SM2 electronic seal (电子签章)
        data,
        department_name=issuance.regional_name(certificate.issuer.name),
        department_uscc=certificate.issuer.uscc,
        when=clock.now(),
        boundary=ofd.seal_boundary(ctype.layout.orientation),
    )
    key = blobs.store().put(data)
    # two first downloads at once: one key is kept, both answers are valid renderings
    db.session.execute(
        update(Certificate)
        .where(Certificate.id == certificate.id, Certificate.ofd_blob_key.is_(None))
        .values(ofd_blob_key=key)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return data


# --------------------------------------------------------------------------- verifiable credentials


def _licence(certificate: Certificate):
    """What the certificate's credentials say (either format)."""
    from .. import credentials
    from .services import certificate_type

    ctype = certificate_type(certificate.type_code)
    data = certificate.data
    return credentials.Licence(
        base_url=current_app.config["PUBLIC_URL"],
        type_code=ctype.code,
        type_name=ctype.name,
        identifier=certificate.identifier,
        issuer_name=certificate.issuer.name,
        fields={f.name: data[f.name] for f in ctype.fields if f.name in data},
        index=certificate.id,
        issued_at=certificate.issued_at,
        expires_at=certificate.expires_at,
    )


def sd_jwt_vc(certificate: Certificate) -> str:
    """The holder's SD-JWT VC of the certificate (every field selectively disclosable)."""
    from .. import credentials

    return credentials.sd_jwt_vc(current_app.extensions["token_keys"], _licence(certificate))


def w3c_vc(certificate: Certificate) -> str:
    """The holder's W3C VC 2.0 of the certificate, secured with JOSE."""
    from .. import credentials

    holder = certificate.holder_enterprise.name if certificate.holder_enterprise else certificate.holder.name
    return credentials.w3c_vc(current_app.extensions["token_keys"], _licence(certificate), holder)


STATUS_OF_PURPOSE = {"revocation": ("revoked", "superseded"), "suspension": ("suspended",)}


def status_list(purpose: str, number: int) -> str | None:
    """The Bitstring Status List credential ``number`` for ``purpose`` (None: no such purpose).

    One indexed range of primary keys: the certificates in this list whose recorded status sets
    the bit (expiry is in each credential itself)."""
    from .. import credentials
    from ..core import clock

    statuses = STATUS_OF_PURPOSE.get(purpose)
    if statuses is None or number < 0 or number > 10_000:
        return None
    first = number * credentials.LIST_SIZE
    ids = db.session.execute(
        select(Certificate.id).where(
            Certificate.id >= first, Certificate.id < first + credentials.LIST_SIZE, Certificate.status.in_(statuses)
        )
    ).scalars()
    return credentials.status_list_credential(
        current_app.extensions["token_keys"],
        base_url=current_app.config["PUBLIC_URL"],
        purpose=purpose,
        number=number,
        set_indexes=ids,
        now=clock.now(),
    )
