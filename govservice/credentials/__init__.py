"""Verifiable credentials of certificates, and the status lists a verifier needs alone.

* **SD-JWT VC** (draft-ietf-oauth-sd-jwt-vc over RFC 9901 SD-JWT): a JWS (``typ`` ``dc+sd-jwt``,
  ES256 under the published keys) whose every certificate field is a salted disclosure
  (``_sd`` digests, ``_sd_alg`` sha-256); identifier, type (``vct``), issuer and validity are
  plain claims. The holder presents only the disclosures chosen.
* **W3C VC 2.0 secured with JOSE** (VC-JOSE-COSE): the credential itself as the payload of a JWS
  with ``typ`` ``vc+jwt`` and ``cty`` ``vc``.
* **Bitstring Status List** (W3C): both carry ``BitstringStatusListEntry`` objects, one for
  ``revocation`` (revoked or superseded) and one for ``suspension``; the index is the
  certificate's id, list ``n`` holds ids ``n * LIST_SIZE`` to ``(n + 1) * LIST_SIZE - 1``. The
  lists are themselves ``BitstringStatusListCredential``s (VC 2.0, JOSE-secured), served at
  ``/credentials/status/<purpose>/<n>``, so a verifier holding only the list sees a revocation.

Credentials are always ES256 (the JOSE world has no SM2 algorithm): under ``CRYPTO_SUITE=sm`` the
ES256 keys of the same JWKS sign them.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

#: entries per status list: the W3C minimum (16 KB of bits), for group privacy
LIST_SIZE = 131_072
PURPOSES = ("revocation", "suspension")
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def es256_store(store):
    """The ES256 key store behind the configured one (``sm2tokens.SuiteKeyStore`` keeps it)."""
    return getattr(store, "es256", store)


def jws(store, header: dict, payload: bytes) -> str:
    """A compact JWS, ES256, under the store's active key (``kid`` in the header)."""
    kid, key = es256_store(store).signing_key()
    protected = b64(_json({"alg": "ES256", "kid": kid, **header}))
    signing_input = f"{protected}.{b64(payload)}".encode("ascii")
    r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    return f"{signing_input.decode('ascii')}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def status_entries(base_url: str, index: int) -> list[dict]:
    number = index // LIST_SIZE
    return [
        {
            "id": f"{base_url}/credentials/status/{purpose}/{number}#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": str(index),
            "statusListCredential": f"{base_url}/credentials/status/{purpose}/{number}",
        }
        for purpose in PURPOSES
    ]


def _seconds(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value is not None else None


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Licence:
    """What a credential of a certificate says, in either format."""

    base_url: str  # the issuing platform (``iss``, the issuer's id)
    type_code: str
    type_name: str
    identifier: str
    issuer_name: str
    fields: dict
    index: int  # its place in the status lists
    issued_at: datetime
    expires_at: datetime | None


def sd_jwt_vc(store, licence: Licence) -> str:
    """The SD-JWT VC (issuer-signed JWT ~ disclosure ~ ... ~), every field selectively disclosable."""
    disclosures, digests = [], []
    for name, value in licence.fields.items():
        disclosure = b64(_json([b64(secrets.token_bytes(16)), name, value]))
        disclosures.append(disclosure)
        digests.append(b64(hashlib.sha256(disclosure.encode("ascii")).digest()))
    claims = {
        "iss": licence.base_url,
        "iat": _seconds(licence.issued_at),
        "vct": f"{licence.base_url}/credentials/types/{licence.type_code}",
        "vct_name": licence.type_name,
        "jti": licence.identifier,
        "issuer_name": licence.issuer_name,
        "_sd": sorted(digests),
        "_sd_alg": "sha-256",
        "credentialStatus": status_entries(licence.base_url, licence.index),
    }
    if licence.expires_at is not None:
        claims["exp"] = _seconds(licence.expires_at)
    return "~".join([jws(store, {"typ": "dc+sd-jwt"}, _json(claims)), *disclosures]) + "~"


def w3c_vc(store, licence: Licence, holder: str) -> str:
    """The W3C VC 2.0 (JSON-LD context v2), secured as ``vc+jwt``."""
    credential = {
        "@context": [VC_CONTEXT],
        "id": f"urn:gbt36904:{licence.identifier}",
        "type": ["VerifiableCredential", "ElectronicLicence"],
        "name": licence.type_name,
        "issuer": {"id": licence.base_url, "name": licence.issuer_name},
        "validFrom": _iso(licence.issued_at),
        "credentialSubject": {"name": holder, "licenceType": licence.type_code, **licence.fields},
        "credentialStatus": status_entries(licence.base_url, licence.index),
    }
    if licence.expires_at is not None:
        credential["validUntil"] = _iso(licence.expires_at)
    return jws(store, {"typ": "vc+jwt", "cty": "vc"}, _json(credential))


def encoded_list(set_indexes, number: int) -> str:
    """The list's bits (index 0 the left-most bit of the first byte), GZIP, multibase base64url."""
    bits = bytearray(LIST_SIZE // 8)
    first = number * LIST_SIZE
    for index in set_indexes:
        offset = index - first
        if 0 <= offset < LIST_SIZE:
            bits[offset // 8] |= 0x80 >> (offset % 8)
    return "u" + b64(gzip.compress(bytes(bits), mtime=0))


def status_list_credential(store, *, base_url: str, purpose: str, number: int, set_indexes, now: datetime) -> str:
    """A BitstringStatusListCredential (VC 2.0, ``vc+jwt``) for one purpose and list number."""
    url = f"{base_url}/credentials/status/{purpose}/{number}"
    credential = {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": base_url,
        "validFrom": _iso(now),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encoded_list(set_indexes, number),
        },
    }
    return jws(store, {"typ": "vc+jwt", "cty": "vc"}, _json(credential))
