"""The signing material of this process: the PAdES key and chain, the time-stamping authority,
and the roots a PDF validator trusts for them, each loaded on first use and kept in the app's
extensions. Issuance (``issuance.sign``) and the published roots (``/.well-known``) read them;
``services`` only checks at start that a configured key exists.

pyHanko is imported inside the functions that load the material: a web worker that signs nothing
never loads it (an issuing Celery worker loads it before it forks).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from . import signing

log = logging.getLogger(__name__)


def pdf_signer() -> signing.SigningMaterial:
    """The key and chain that PAdES-sign PDFs, loaded on first use in this process: pyHanko and
    its dependencies stay out of a web worker that signs nothing (an issuing Celery worker loads
    it before it forks, so a wrong key or passphrase stops the worker at its start)."""
    material = current_app.extensions.get("pdf_signing")
    if material is None:
        material = signing_material(current_app.config, f"{current_app.config['INSTANCE_DIR']}/keys/pki")
        current_app.extensions["pdf_signing"] = material
    return material


def pdf_timestamper():
    """The TSA that time-stamps PAdES signatures (TSA_URL, else the development TSA), built on
    first use in this process."""
    stamper = current_app.extensions.get("pdf_timestamper")
    if stamper is None:
        from .timestamps import timestamper

        stamper = timestamper(current_app.config, f"{current_app.config['INSTANCE_DIR']}/keys/pki")
        current_app.extensions["pdf_timestamper"] = stamper
    return stamper


def pdf_trust_roots() -> list:
    """The CA certificates a PDF validator trusts for certificates signed here: the signing
    key's and the TSA's (one certificate once; published at /.well-known/pdf-signing-ca.pem)."""
    roots = {}
    for root in (*pdf_signer().trust_roots, *getattr(pdf_timestamper(), "trust_roots", ())):
        roots.setdefault(root.sha256, root)
    return list(roots.values())


def signing_material(config, dev_pki_dir: str) -> signing.SigningMaterial:
    """The configured production key and chain (SIGNING_*), else the development PKI."""
    from . import signing  # pyHanko: only in a process that signs

    key, cert = config.get("SIGNING_KEY_FILE"), config.get("SIGNING_CERT_FILE")
    if key or cert:
        if not (key and cert):
            raise RuntimeError("SIGNING_KEY_FILE and SIGNING_CERT_FILE must be set together")
        chain = [p.strip() for p in (config.get("SIGNING_CHAIN_FILE") or "").split(",") if p.strip()]
        return signing.load_signing_material(key, cert, chain, config.get("SIGNING_KEY_PASSPHRASE") or None)
    if config.get("ENV_NAME", "development") != "development":
        log.warning("SIGNING_KEY_FILE is not set: certificates are signed with the DEVELOPMENT CA in %s", dev_pki_dir)
    return signing.ensure_dev_pki(dev_pki_dir)
