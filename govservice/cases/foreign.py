"""互认 at intake: a certificate another region's or platform's wallet exported (its W3C VC, a
``vc+jwt`` file), presented online by the applicant or at the window by the clerk in place of a
material that a certificate may replace.

It is checked when presented, by the certificates domain against the trust list (signature under
the issuer's published keys, its status list, validity, holder: ``trust.check_credential``), and
refused there with the reason (untrusted issuer, revoked or suspended, altered, someone else's,
another type of certificate, the issuer unreachable); accepted, it is kept as the material's
attachment (encrypted in blob storage like any file) and checked again at acceptance (受理), when
its issuer may have revoked it since.
"""

from __future__ import annotations

from flask_babel import gettext as _

from ..core import blobs
from .held import certificates as certificate_domain
from .uploads import Upload, UploadRefused

CONTENT_TYPE = "application/vc+jwt"
URN = "urn:gbt36904:"


def credential_in(material: dict, upload: Upload) -> str | None:
    """The foreign credential this upload is, if its material may be replaced by a certificate."""
    from .. import trust

    if not material.get("replaceable_by") or len(upload.data) > trust.MAX_CREDENTIAL:
        return None
    try:
        text = upload.data.decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    return text if trust.looks_like_credential(text) else None


def check_presented(material: dict, upload: Upload, credential: str, applicant) -> Upload:
    """The upload to keep for an accepted foreign credential (named after what it is); raises
    UploadRefused with the reason otherwise. The check is audited (certificate.material.foreign)."""
    from .. import trust

    certificates = certificate_domain()
    [check] = certificates.check_held_materials([credential], applicant)
    if not check.ok:
        raise UploadRefused(material["name"], check.reason)
    wanted = certificates.certificate_type(material["replaceable_by"]).name
    shown = trust.unverified_type_name(credential)
    if shown != wanted:
        raise UploadRefused(
            material["name"],
            _("提交的外地电子证照是“%(shown)s”，该材料需要“%(wanted)s”。", shown=shown or "?", wanted=wanted),
        )
    identifier = check.identifier.removeprefix(URN)
    return Upload(material["code"], f"互认电子证照-{wanted}-{identifier}.jwt", credential.encode("ascii"))


def credentials_of(case) -> list[str]:
    """The foreign credentials kept as the case's materials, for the check at acceptance."""
    store = blobs.store()
    return [store.get(a.blob_key).decode("ascii") for a in case.attachments if a.content_type == CONTENT_TYPE]
