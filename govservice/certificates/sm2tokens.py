"""National cryptography (国密) for QR tokens: SM2 signatures with the SM3 digest (GB/T 32918,
GB/T 32905), chosen with ``CRYPTO_SUITE=sm``.

A token is then a JWS compact serialisation like the ES256 one (``tokens.py``), with header
``{"typ": "JWT", "alg": "SM2-SM3", "kid": ...}`` (JOSE registers no SM2 algorithm: the name is
this platform's) and the signature SM2 over the signing input with the SM3 digest and the
default user ID ``1234567812345678`` (GM/T 0009), as r || s in 64 bytes.

* :class:`SM2KeyStore` keeps SM2 keys in a directory, one JSON file per key (a private JWK with
  ``"kty": "EC", "crv": "SM2"`` and ``created_at``), its ``kid`` the RFC 7638 thumbprint; the
  newest signs, older ones stay published for verification (rotation as for ES256).
* :class:`SuiteKeyStore` is what ``app.extensions["token_keys"]`` holds under the SM suite: it
  signs with SM2, verifies SM2 and ES256 tokens alike (certificates issued before the switch keep
  verifying), and publishes both kinds of key in one JWKS.

The primitives are Tongsuo's (铜锁, the OpenAtom Foundation's OpenSSL fork with SM2/SM3/SM4),
through ``tongsuopy``, a fork of pyca/cryptography: a sign or a verify is a few milliseconds.
The tests check its SM3 against GB/T 32905's examples, and its SM2 signatures against gmssl, an
independent implementation whose core they check against GB/T 32918's worked example.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from . import tokens

log = logging.getLogger(__name__)

ALG = "SM2-SM3"
CURVE = "SM2"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _tongsuo():
    from tongsuopy.crypto import hashes
    from tongsuopy.crypto.asymciphers import ec

    return ec, hashes


def algorithm():
    ec, hashes = _tongsuo()
    return ec.ECDSA(hashes.SM3())


def is_sm2(key) -> bool:
    return getattr(getattr(key, "curve", None), "name", None) == CURVE


def public_from_jwk(jwk: Mapping[str, Any]):
    """A tongsuopy SM2 public key from a JWK (``crv`` SM2), or None if it is not one."""
    if not isinstance(jwk, Mapping) or jwk.get("kty") != "EC" or jwk.get("crv") != CURVE:
        return None
    try:
        ec, _ = _tongsuo()
        x, y = (int.from_bytes(_unb64(str(jwk[n])), "big") for n in ("x", "y"))
        return ec.EllipticCurvePublicNumbers(x, y, ec.SM2()).public_key()
    except (KeyError, ValueError, TypeError, binascii.Error):
        return None


def thumbprint(x: str, y: str) -> str:
    """RFC 7638: SHA-256 of the required members in lexicographic order, no whitespace."""
    canonical = json.dumps({"crv": CURVE, "kty": "EC", "x": x, "y": y}, separators=(",", ":"), sort_keys=True)
    return _b64(hashlib.sha256(canonical.encode("ascii")).digest())


def sign_raw(key, data: bytes) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    r, s = decode_dss_signature(key.sign(data, algorithm()))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify_raw(public, signature: bytes, data: bytes) -> bool:
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    from tongsuopy.crypto.exceptions import InvalidSignature

    if len(signature) != 64:
        return False
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        public.verify(der, data, algorithm())
    except InvalidSignature:
        return False
    return True


class SM2KeyStore:
    """SM2 signing keys in ``directory`` (see the module's notes); safe across processes: files
    are written under a temporary name and renamed, writers serialise on a lock file, and the
    listing is read again whenever the directory changed."""

    def __init__(self, directory: str | os.PathLike[str]):
        self.directory = Path(directory)
        self._listing = tokens.DirectoryListing(self.directory, self._scan)

    def _keys(self) -> list[dict]:
        """All valid keys, newest (= active) first (read again only when the directory changed)."""
        return self._listing()

    def _scan(self) -> list[dict]:
        keys = []
        for path in self.directory.glob("*.json"):
            try:
                keys.append(self._load(path))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("ignoring SM2 key file %s: %s", path, exc)
        keys.sort(key=lambda k: (k["created_at"], k["kid"]), reverse=True)
        return keys

    @staticmethod
    def _load(path: Path) -> dict:
        ec, _ = _tongsuo()
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("crv") != CURVE or thumbprint(data["x"], data["y"]) != data["kid"] or path.stem != data["kid"]:
            raise ValueError("not an SM2 key of this store")
        private = ec.derive_private_key(int.from_bytes(_unb64(data["d"]), "big"), ec.SM2())
        numbers = private.public_key().public_numbers()
        if _b64(numbers.x.to_bytes(32, "big")) != data["x"] or _b64(numbers.y.to_bytes(32, "big")) != data["y"]:
            raise ValueError("the public key does not match the private key")
        created = datetime.fromisoformat(data["created_at"].replace("Z", "+00:00"))
        return {
            "kid": data["kid"],
            "x": data["x"],
            "y": data["y"],
            "created_at": created,
            "private": private,
            "public": private.public_key(),
        }

    @contextlib.contextmanager
    def _write_lock(self):
        import fcntl

        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _write_new_key(self) -> str:
        ec, _ = _tongsuo()
        keys = self._keys()
        created = datetime.now(UTC)
        if keys and created <= keys[0]["created_at"]:
            created = keys[0]["created_at"] + timedelta(microseconds=1)
        private = ec.generate_private_key(ec.SM2())
        numbers = private.private_numbers()
        x = _b64(numbers.public_numbers.x.to_bytes(32, "big"))
        y = _b64(numbers.public_numbers.y.to_bytes(32, "big"))
        kid = thumbprint(x, y)
        data = {
            "kty": "EC",
            "crv": CURVE,
            "x": x,
            "y": y,
            "d": _b64(numbers.private_value.to_bytes(32, "big")),
            "kid": kid,
            "use": "sig",
            "alg": ALG,
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=self.directory)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh)
            os.replace(tmp, self.directory / f"{kid}.json")
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        log.info("created SM2 token signing key %s in %s", kid, self.directory)
        return kid

    def ensure_key(self) -> str:
        keys = self._keys()
        if keys:
            return keys[0]["kid"]
        with self._write_lock():
            keys = self._keys()
            return keys[0]["kid"] if keys else self._write_new_key()

    def rotate(self) -> str:
        with self._write_lock():
            return self._write_new_key()

    @property
    def active_kid(self) -> str | None:
        keys = self._keys()
        return keys[0]["kid"] if keys else None

    def kids(self) -> list[str]:
        return [k["kid"] for k in self._keys()]

    def public_jwks(self) -> dict:
        return {
            "keys": [
                {"kty": "EC", "crv": CURVE, "x": k["x"], "y": k["y"], "kid": k["kid"], "use": "sig", "alg": ALG}
                for k in self._keys()
            ]
        }

    def signing_key(self):
        self.ensure_key()
        active = self._keys()[0]
        return active["kid"], active["private"]

    def verifiers(self) -> list:
        return [(k["kid"], k["public"]) for k in self._keys()]

    def sign(self, claims: Mapping[str, Any]) -> str:
        kid, private = self.signing_key()
        header = _b64(json.dumps({"typ": "JWT", "alg": ALG, "kid": kid}, separators=(",", ":")).encode())
        payload = _b64(json.dumps(dict(claims), separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        signing_input = f"{header}.{payload}".encode("ascii")
        return f"{header}.{payload}.{_b64(sign_raw(private, signing_input))}"

    def verify(self, token: str | bytes) -> dict[str, Any]:
        """As ``TokenKeyStore.verify``, for SM2-SM3 tokens; raises ``tokens.TokenError``."""
        header = tokens.unverified_header(token)  # malformed -> TokenError
        text = token.decode("ascii") if isinstance(token, (bytes, bytearray)) else token
        kid = header.get("kid") if isinstance(header.get("kid"), str) else None
        if header.get("alg") != ALG:
            raise tokens.TokenError("wrong_alg", f"alg {header.get('alg')!r} is not {ALG}", kid=kid)
        for name in ("crit", "b64", "zip", "enc"):
            if name in header:
                raise tokens.TokenError("malformed", f"header parameter {name!r} is not accepted", kid=kid)
        key = next((k for k in self._keys() if k["kid"] == kid), None)
        if key is None:
            raise tokens.TokenError("unknown_kid", f"kid {kid!r} is not in the key store", kid=kid)
        head, payload, signature = text.strip().split(".")
        try:
            raw = _unb64(signature)
            canonical = _b64(raw) == signature
        except (binascii.Error, ValueError):
            raise tokens.TokenError("malformed", "signature is not base64url", kid=kid) from None
        if not canonical or not verify_raw(key["public"], raw, f"{head}.{payload}".encode("ascii")):
            raise tokens.TokenError("bad_signature", "signature does not verify", kid=kid)
        try:
            claims = json.loads(_unb64(payload).decode("utf-8"))
        except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
            raise tokens.TokenError("malformed", f"payload: {exc}", kid=kid) from None
        if not isinstance(claims, dict):
            raise tokens.TokenError("malformed", "payload is not a JSON object", kid=kid)
        return claims


class SuiteKeyStore:
    """``CRYPTO_SUITE=sm``: SM2 signs; SM2 and (older) ES256 tokens verify; one JWKS for both."""

    def __init__(self, es256: tokens.TokenKeyStore, sm2: SM2KeyStore):
        self.es256, self.sm2 = es256, sm2

    def ensure_key(self) -> str:
        return self.sm2.ensure_key()

    def rotate(self) -> str:
        return self.sm2.rotate()

    @property
    def active_kid(self) -> str | None:
        return self.sm2.active_kid

    def kids(self) -> list[str]:
        return self.sm2.kids() + self.es256.kids()

    def public_jwks(self) -> dict:
        return {"keys": self.sm2.public_jwks()["keys"] + self.es256.public_jwks()["keys"]}

    def sign(self, claims: Mapping[str, Any]) -> str:
        return self.sm2.sign(claims)

    def signing_key(self):
        return self.sm2.signing_key()

    def verifiers(self) -> list:
        return self.sm2.verifiers() + self.es256.verifiers()

    def current(self, kid: str):
        """Whether a key with this kid is published now (see `tokens.TokenKeyStore.current`)."""
        return self.es256.current(kid) or (kid in self.sm2.kids() or None)

    def verify(self, token: str | bytes) -> dict[str, Any]:
        if tokens.unverified_header(token).get("alg") == ALG:
            return self.sm2.verify(token)
        return self.es256.verify(token)
