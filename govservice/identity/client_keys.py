"""The platform's own signing key as an OpenID Connect client, for `private_key_jwt` client
authentication (RFC 7523 §2.2, OpenID Connect Core §9): instead of a shared secret the token
request carries a short JWT signed with this key, and the provider checks it against the public
key published at `/auth/jwks.json` (register that URL as the client's `jwks_uri`).

The key is RSA 2048 (RS256, what provincial platforms accept most widely), read from
`OIDC_CLIENT_KEY_FILE` (a PEM private key) or generated once into `instance/keys/oidc_client_key.pem`
(mode 0600, never committed). Its key id is the RFC 7638 thumbprint. A new key: remove the file
(or point the variable at a new one), restart, and let the provider fetch the JWKS again.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, current_app
from joserfc.jwk import KeySet, RSAKey

ALG = "RS256"
FILE = "oidc_client_key.pem"


def _load_or_create(app: Flask) -> bytes:
    configured = app.config.get("OIDC_CLIENT_KEY_FILE") or os.environ.get("OIDC_CLIENT_KEY_FILE")
    if configured:
        return Path(configured).read_bytes()
    path = Path(app.config["INSTANCE_DIR"]) / "keys" / FILE
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:  # exclusive create: two processes starting together keep the first one's key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return pem


def client_key(app: Flask | None = None) -> RSAKey:
    app = app or current_app
    key = app.extensions.get("oidc_client_key")
    if key is None:
        key = RSAKey.import_key(_load_or_create(app), parameters={"alg": ALG, "use": "sig"})
        key.ensure_kid()
        app.extensions["oidc_client_key"] = key
    return key


def jwks(app: Flask | None = None) -> dict:
    """The public half, as a JWK Set."""
    return KeySet([client_key(app)]).as_dict(private=False)
