"""Electronic seals (电子签章) on OFD certificates: the SM2 keys and certificates that make and
apply them, and the sealing of a rendered package (``govservice.ofd.seal``).

The development seal authority lives in ``<INSTANCE_DIR>/keys/ofd_seal`` (or ``OFD_SEAL_DIR``),
made on first use as the development CA is: a seal maker (制章者, a self-signed SM2 CA
certificate, ten years) and a signer (签章者, an SM2 certificate the maker issues, five years),
private keys PKCS#8 PEM with mode 0600. Every issuing department's seal is named after it
(``<department>电子证照专用章``), made by the maker and listing the signer's certificate. A
production deployment puts its own maker and signer files in that directory (same names).

OFD is the national systems' format, whose seals GB/T 38540 defines with SM2 only: the OFD is
sealed with SM2 under either ``CRYPTO_SUITE``; the suite chooses how QR tokens are signed.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask_babel import lazy_gettext as _l

log = logging.getLogger(__name__)
_lock = threading.Lock()
FILES = ("maker.key", "maker.cer", "signer.key", "signer.cer")


@dataclass(frozen=True)
class SealAuthority:
    maker_key: object
    maker_cert: bytes
    signer_key: object
    signer_cert: bytes

    def validity(self) -> tuple[datetime, datetime]:
        from asn1crypto import x509

        validity = x509.Certificate.load(self.signer_cert)["tbs_certificate"]["validity"]
        return validity["not_before"].native, validity["not_after"].native


def _pem(private_key) -> bytes:
    from tongsuopy.crypto import serialization

    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write(path: Path, data: bytes) -> None:
    from .signing import _write_private

    _write_private(path, data, 0o600)


def _create(directory: Path, now: datetime) -> None:
    from tongsuopy.crypto.asymciphers import ec

    from ..ofd.seal import make_certificate

    maker, signer = ec.generate_private_key(ec.SM2()), ec.generate_private_key(ec.SM2())
    maker_name = "govservice 开发环境电子印章制作系统"
    start = now - timedelta(minutes=5)

    def issued_by_maker(subject, subject_key, days, ca):
        return make_certificate(
            subject=subject,
            subject_key=subject_key,
            issuer=maker_name,
            issuer_key=maker,
            serial=secrets.randbits(63),
            not_before=start,
            not_after=start + timedelta(days=days),
            ca=ca,
        )

    maker_cert = issued_by_maker(maker_name, maker, 3650, ca=True)  # self-signed
    signer_cert = issued_by_maker("govservice 电子证照签章服务", signer, 1826, ca=False)
    # the certificates last: a directory with them is complete
    _write(directory / "maker.key", _pem(maker))
    _write(directory / "signer.key", _pem(signer))
    _write(directory / "signer.cer", signer_cert)
    _write(directory / "maker.cer", maker_cert)
    log.info("created the development OFD seal authority (SM2) in %s", directory)


def load_authority(directory: str | os.PathLike[str], now: datetime) -> SealAuthority:
    """The seal maker and signer in ``directory``, created there first if it has none."""
    from tongsuopy.crypto import serialization

    from .signing import _dir_lock

    folder = Path(directory)
    if not all((folder / name).exists() for name in FILES):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with _dir_lock(folder):  # another process may be creating it right now
            if not all((folder / name).exists() for name in FILES):
                _create(folder, now)

    def key(name: str):
        return serialization.load_pem_private_key((folder / name).read_bytes(), password=None)

    return SealAuthority(
        maker_key=key("maker.key"),
        maker_cert=(folder / "maker.cer").read_bytes(),
        signer_key=key("signer.key"),
        signer_cert=(folder / "signer.cer").read_bytes(),
    )


def authority() -> SealAuthority:
    """This process's seal authority, loaded on first use."""
    from flask import current_app

    from ..core import clock

    found = current_app.extensions.get("ofd_seal")
    if found is None:
        with _lock:
            found = current_app.extensions.get("ofd_seal")
            if found is None:
                directory = (
                    current_app.config.get("OFD_SEAL_DIR") or f"{current_app.config['INSTANCE_DIR']}/keys/ofd_seal"
                )
                found = current_app.extensions["ofd_seal"] = load_authority(directory, clock.now())
    return found


def seal_name(department_name: str) -> str:
    return f"{department_name}电子证照专用章"


def seal_ofd(package: bytes, *, department_name: str, department_uscc: str, when: datetime, boundary) -> bytes:
    """The OFD package with its issuing department's SM2 electronic seal applied at ``boundary``."""
    from ..ofd import seal

    keys = authority()
    start, end = keys.validity()
    es_id = f"{department_uscc}OFD01"  # 印章编码: the department's credit code and a seal number
    made = seal.make_seal(
        name=seal_name(department_name),
        es_id=es_id,
        maker_key=keys.maker_key,
        maker_cert=keys.maker_cert,
        signer_certs=[keys.signer_cert],
        created=start,
        valid_start=start,
        valid_end=end,
    )
    return seal.seal_package(
        package, seal=made, signer_key=keys.signer_key, signer_cert=keys.signer_cert, when=when, boundary=boundary
    )


# --------------------------------------------------------------------------- checking an OFD file

#: what the page says for each verdict of ``ofd.seal.verify_package`` (stored words stay Chinese)
SEAL_MESSAGES = {
    "unsigned": _l("该文件没有电子签章，不能确认是本平台签发的电子证照。"),
    "malformed": _l("该文件不是可读取的OFD电子证照，或其电子签章数据已损坏。"),
    "altered": _l("该文件在签章后被修改过（内容与电子签章不符），请勿采信。"),
    "bad_signature": _l("该文件的电子签章签名无效（伪造或被篡改），请勿采信。"),
    "untrusted": _l("该文件的电子签章不是本平台的印章制作系统制作的，本平台不能确认其真实性。"),
}


@dataclass(frozen=True)
class OFDCheck:
    seal_status: str  # valid | unsigned | malformed | altered | bad_signature | untrusted
    message: str | None  # why the seal is not accepted (None when it is)
    seal_name: str | None
    signed_at: datetime | None
    snapshot: object | None  # the certificate the file names (verification.Snapshot), when the seal holds
    status: str  # what the page answers: the certificate's status, forged or not_found


def check_ofd(package: bytes) -> OFDCheck:
    """核验OFD文件: the electronic seal of an uploaded OFD certificate against this platform's seal
    maker, then the certificate it names, as the verification page answers for a QR. Logged as a
    use of the certificate (channel page) and audited; commits."""
    from ..core.extensions import db
    from ..ofd import seal
    from . import services, verification

    verdict = seal.verify_package(package, [authority().maker_cert])
    snap = verification.snapshot(verdict.doc_id) if verdict.status == "valid" and verdict.doc_id else None
    status = ("not_found" if snap is None else snap.status) if verdict.status == "valid" else "forged"
    if verdict.status != "valid":
        log.info("an OFD file failed its seal check: %s (%s)", verdict.status, verdict.detail)
    services.log_use(
        services.find(verdict.doc_id) if snap is not None else None,
        channel="page",
        verifier="OFD文件核验",
        result=status,
        reason=None if verdict.status == "valid" else f"seal_{verdict.status}",
    )
    db.session.commit()
    return OFDCheck(
        seal_status=verdict.status,
        message=None if verdict.status == "valid" else str(SEAL_MESSAGES[verdict.status]),
        seal_name=verdict.seal_name,
        signed_at=verdict.signed_at,
        snapshot=snap,
        status=status,
    )
