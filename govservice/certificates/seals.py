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
    maker_cert = make_certificate(
        subject=maker_name,
        subject_key=maker,
        issuer=maker_name,
        issuer_key=maker,
        serial=secrets.randbits(63),
        not_before=start,
        not_after=start + timedelta(days=3650),
        ca=True,
    )
    signer_cert = make_certificate(
        subject="govservice 电子证照签章服务",
        subject_key=signer,
        issuer=maker_name,
        issuer_key=maker,
        serial=secrets.randbits(63),
        not_before=start,
        not_after=start + timedelta(days=1826),
        ca=False,
    )
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

    from .. import clock

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
