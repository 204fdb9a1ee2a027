"""The short reference printed in a certificate's QR code: small enough to scan from paper, and
still verifiable offline from the published keys (``/.well-known/jwks.json``).

The full QR token (a JWS of some 480 characters) needs a version-17 QR, too dense for a phone
to read from a print. The printed QR now carries ``{PUBLIC_URL}/r/{reference}``::

    reference = body "." signature
    body      = type "." issuer "." serial "." version "." key
    e.g.        yyzz.scjgj.2BH.1.hzD.<86 characters>

* ``type``: the certificate type's code (``licenses/*.toml``), ``issuer``: the issuing
  department's code; ``serial`` and ``version`` of the GB/T 36904 identifier in base 36. With the
  department's credit code and the type's licence type code they give the identifier back
  (``identifiers.make_identifier``), so nothing needs storing to resolve a reference.
* ``key``: the first three characters of the signing key's ``kid`` (its RFC 7638 thumbprint);
  a verifier tries the published keys whose kid starts with them (after rotation, old keys stay
  published, so old prints still verify).
* ``signature``: ES256 (ECDSA P-256, SHA-256) over the ASCII bytes of ``body``, the 64-byte
  r || s of RFC 7518 in base64url without padding; under ``CRYPTO_SUITE=sm``, SM2 with SM3
  (``sm2tokens.py``), the same 64 bytes.

About 105 characters: with ``https://`` and a host of 20 characters the QR holds about 135
and is a version-7 code (45 x 45 modules) that a phone reads from a 150-dpi print. What an
offline verifier learns is that the platform issued this certificate (type, issuer, number,
version); its status (revoked, suspended, expired) needs the online page or a status list.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from . import sm2tokens

KEY_HINT = 3
MAX_LENGTH = 160
_BODY = re.compile(
    r"([a-z0-9]{2,16})\.([a-z0-9_-]{1,32})\.([0-9A-Z]{1,7})\.([0-9A-Z]{1,2})\.([A-Za-z0-9_-]{%d})" % KEY_HINT  # noqa: UP031
)
_SIGNATURE = re.compile(r"[A-Za-z0-9_-]{86}")
_ECDSA = ec.ECDSA(hashes.SHA256())
_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class ReferenceError(ValueError):
    """Not a reference, or one whose signature does not verify. ``reason`` as tokens.TokenError:
    ``malformed``, ``unknown_kid`` or ``bad_signature``."""

    def __init__(self, reason: str, message: str = ""):
        super().__init__(f"{reason}: {message}" if message else reason)
        self.reason = reason


@dataclass(frozen=True)
class Reference:
    type_code: str
    issuer_code: str
    serial: int
    version: int
    kid: str


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = _DIGITS[rest] + digits
        if not number:
            return digits


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make(store, type_code: str, issuer_code: str, serial: int, version: int) -> str:
    """Sign a reference with the key store's active key (``tokens.TokenKeyStore``)."""
    kid, key = store.signing_key()
    body = f"{type_code}.{issuer_code}.{_base36(int(serial))}.{_base36(int(version))}.{kid[:KEY_HINT]}"
    if not _BODY.fullmatch(body):
        raise ValueError(f"cannot make a reference of {body!r}")
    if sm2tokens.is_sm2(key):  # CRYPTO_SUITE=sm
        return f"{body}.{_b64(sm2tokens.sign_raw(key, body.encode('ascii')))}"
    r, s = decode_dss_signature(key.sign(body.encode("ascii"), _ECDSA))
    return f"{body}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def _parse(reference: str) -> tuple[str, Reference, bytes]:
    if not isinstance(reference, str) or len(reference) > MAX_LENGTH:
        raise ReferenceError("malformed", "not a reference")
    body, _, signature = reference.strip().rpartition(".")
    match = _BODY.fullmatch(body)
    if match is None or not _SIGNATURE.fullmatch(signature):
        raise ReferenceError("malformed", "not a reference")
    try:
        raw = base64.urlsafe_b64decode(signature + "==")
    except (binascii.Error, ValueError):  # pragma: no cover - the pattern admits base64url only
        raise ReferenceError("malformed", "signature is not base64url") from None
    if _b64(raw) != signature:  # one changed trailing character that decodes the same: still changed
        raise ReferenceError("bad_signature", "non-canonical base64url")
    type_code, issuer, serial, version, hint = match.groups()
    return body, Reference(type_code, issuer, int(serial, 36), int(version, 36), hint), raw


def _check(body: str, ref: Reference, raw: bytes, candidates) -> Reference:
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    tried = False
    for kid, public in candidates:
        if not kid.startswith(ref.kid):
            continue
        tried = True
        if sm2tokens.is_sm2(public):
            if not sm2tokens.verify_raw(public, raw, body.encode("ascii")):
                continue
        else:
            try:
                public.verify(der, body.encode("ascii"), _ECDSA)
            except InvalidSignature:
                continue
        return Reference(ref.type_code, ref.issuer_code, ref.serial, ref.version, kid)
    raise ReferenceError("bad_signature" if tried else "unknown_kid", "signature does not verify")


def verify(store, reference: str) -> Reference:
    """Check a reference against the key store (the platform's own check)."""
    body, ref, raw = _parse(reference)
    return _check(body, ref, raw, store.verifiers())


def _jwk_public(jwk: Mapping[str, Any]) -> ec.EllipticCurvePublicKey | None:
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or jwk.get("alg", "ES256") != "ES256":
        return None
    try:
        x, y = (int.from_bytes(base64.urlsafe_b64decode(str(jwk[n]) + "=="), "big") for n in ("x", "y"))
        return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    except (KeyError, ValueError, binascii.Error):
        return None


def verify_with_jwks(reference: str, jwks: Mapping[str, Any]) -> Reference:
    """What an offline verifier does: check a reference against the published JWKS alone."""
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(keys, list):
        raise ValueError('jwks must be a mapping with a "keys" list')
    body, ref, raw = _parse(reference)
    candidates = [
        (str(k.get("kid", "")), public)
        for k in keys
        if isinstance(k, Mapping)
        for public in [_jwk_public(k) or sm2tokens.public_from_jwk(k)]
        if public is not None
    ]
    return _check(body, ref, raw, candidates)


# --------------------------------------------------------------------------- on the platform

_ISSUERS: dict[str, tuple[float, str | None]] = {}
_ISSUER_TTL = 60.0  # seconds a department's credit code is remembered (it identifies the issuer)


def _issuer_uscc(code: str) -> str | None:
    import time

    from ..catalog import services as catalog

    now = time.monotonic()
    cached = _ISSUERS.get(code)
    if cached is None or now - cached[0] > _ISSUER_TTL:
        department = catalog.department(code)
        cached = _ISSUERS[code] = (now, department.uscc if department is not None else None)
        if len(_ISSUERS) > 1024:
            _ISSUERS.clear()
    return cached[1]


def identifier_of(ref: Reference) -> str | None:
    """The GB/T 36904 identifier a verified reference names (None: no such type or issuer)."""
    from flask import current_app

    from . import identifiers

    ctype = current_app.extensions["certificate_types"].get(ref.type_code)
    uscc = _issuer_uscc(ref.issuer_code)
    if ctype is None or uscc is None:
        return None
    try:
        return identifiers.make_identifier(ctype.licence_type_code, uscc, ref.serial, ref.version)
    except identifiers.InvalidIdentifier:
        return None


def verify_reference(
    reference: str,
    *,
    channel: str,
    verifier: str,
    purpose: str | None = None,
    client_id: int | None = None,
    client_label: str | None = None,
    quota=None,
):
    """Status for a printed reference, logged like a token's check: (status, snapshot), or
    ("forged", None) when it does not verify or names no certificate issued here. `quota` (a
    verification.Quota) is spent whatever the answer."""
    from flask import current_app

    from . import verification

    try:
        ref = verify(current_app.extensions["token_keys"], reference)
    except ReferenceError as exc:
        verification.refused(channel, exc.reason, quota)
        return "forged", None
    identifier = identifier_of(ref)
    if identifier is None:
        verification.refused(channel, "unknown_certificate", quota)
        return "forged", None
    status, snap = verification.verify_identifier(
        identifier,
        channel=channel,
        verifier=verifier,
        purpose=purpose,
        client_id=client_id,
        client_label=client_label,
        quota=quota,
    )
    if snap is None or snap.type_code != ref.type_code:
        return "forged", None
    return status, snap
