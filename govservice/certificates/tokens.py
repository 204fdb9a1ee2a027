"""The signed token printed in a certificate's QR code, and the keys that sign it.

A token is a JWT in JWS compact serialisation, signed with ES256 (ECDSA over
P-256 with SHA-256)::

    header  {"typ": "JWT", "alg": "ES256", "kid": "<RFC 7638 thumbprint of the signing key>"}
    claims  {
      "jti":    "1.2.156.3005.2...",   # certificate identifier (GB/T 36904, see identifiers.py)
      "cid":    "1.2.156.3005.2...",   # the same identifier, for readers that look for "cid"
      "typ":    "yyzz",                # certificate type code (types.py / licenses/*.toml)
      "iss":    "scjgj",               # issuing department: its code or name
      "sub":    "张*",                 # holder, MASKED -- never the full name or ID number
      "iat":    1735689600,            # issue time, seconds since the epoch (UTC)
      "exp":    1893456000,            # optional: expiry, seconds since the epoch; absent = long-term
      "sha256": "<hex SHA-256 of the issued PDF>",
    }

This module does not invent claims: :meth:`TokenKeyStore.sign` signs exactly the
mapping it is given (``iat``/``exp``/``nbf``, when present, must be numbers).
Nor does it judge them: :meth:`TokenKeyStore.verify` and :func:`verify_with_jwks`
check the signature and return the claims; *expiry is not checked* -- what an
expired or revoked certificate means is the caller's decision. The token is
readable by anyone (it is signed, not encrypted): put nothing in it that may not
be printed on the certificate.

Key store
---------
:class:`TokenKeyStore` keeps the signing keys in a directory (typically
``<instance>/keys/token_keys/``), one P-256 private JWK per file named
``<kid>.json``, mode 0600, with an extra ``created_at`` member (RFC 3339, UTC).
The ``kid`` is the key's RFC 7638 thumbprint. The newest key (by ``created_at``)
is the active signer; older keys stay for verification until an operator removes
their file. All state is on disk, so every process and every instance on the same
directory agrees; files are written to a temporary name and renamed into place,
so a reader sees a key file either complete or not at all, and writers
(``ensure_key``/``rotate``) serialise on a lock file.

Publish :meth:`TokenKeyStore.public_jwks` (public parameters only) for offline
verifiers; :func:`verify_with_jwks` is what such a verifier does.

Verification failures raise :class:`TokenError` whose ``reason`` is one of
``"malformed"``, ``"wrong_alg"``, ``"unknown_kid"``, ``"bad_signature"``. Only
ES256 is ever accepted ("none", HS256, RS256, ... are ``wrong_alg``), and only
keys from the store or the given JWKS are used -- never keys named or embedded in
the token (``jku``, ``jwk``, ``x5u``, ``x5c`` are ignored).

Note: ECDSA signatures are not unique (a token can be re-encoded with an
equivalent signature), so identify a token by its ``jti`` claim, never by the
token string.
"""

from __future__ import annotations

import binascii
import contextlib
import json
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

try:  # POSIX only; elsewhere writers are not serialised (renames stay atomic).
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "ALG",
    "TokenError",
    "KeyStoreError",
    "TokenKeyStore",
    "verify_with_jwks",
    "unverified_header",
]

log = logging.getLogger(__name__)

ALG = "ES256"
CURVE = "P-256"
#: Longest token accepted, in characters. A QR token is a few hundred.
MAX_TOKEN_LENGTH = 8192

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
# Header parameters that would change how the token is processed: refused.
_REFUSED_HEADER_PARAMS = ("crit", "b64", "zip", "enc")
_NUMERIC_CLAIMS = ("iat", "exp", "nbf")
_PUBLIC_MEMBERS = ("kty", "crv", "x", "y")
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


class TokenError(Exception):
    """A token that did not verify. ``reason`` is one of :attr:`REASONS`.

    ``kid`` is the header's key id when the header could be read (else None).
    """

    REASONS = frozenset({"malformed", "unknown_kid", "bad_signature", "wrong_alg"})

    def __init__(self, reason: str, message: str | None = None, *, kid: str | None = None):
        if reason not in self.REASONS:
            raise ValueError(f"unknown TokenError reason {reason!r}")
        self.reason = reason
        self.kid = kid
        super().__init__(f"{reason}: {message}" if message else reason)


class KeyStoreError(Exception):
    """The key directory cannot be used (e.g. it cannot be created or written)."""


# --------------------------------------------------------------------------- parsing


_FROM_URLSAFE = str.maketrans("-_", "+/")
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _decode_checked(segment: str) -> bytes:
    """Decode a segment whose alphabet and length were already checked (binascii, strict)."""
    return binascii.a2b_base64((segment + "=" * (-len(segment) % 4)).translate(_FROM_URLSAFE), strict_mode=True)


def _is_canonical(segment: str, data: bytes) -> bool:
    return binascii.b2a_base64(data, newline=False).translate(_TO_URLSAFE).rstrip(b"=") == segment.encode("ascii")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate member {key!r}")
        out[key] = value
    return out


_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates)


def _json_object(data: bytes) -> dict[str, Any]:
    value = _DECODER.decode(data.decode("utf-8"))
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


@dataclass(frozen=True)
class _Parsed:
    text: str
    header: dict[str, Any]
    segments: tuple[str, str, str]
    header_bytes: bytes


def _parse(token: str | bytes) -> _Parsed:
    """Split and decode the header; raise TokenError("malformed") on anything
    that is not a JWS compact serialisation with a JSON object header."""
    if isinstance(token, (bytes, bytearray)):
        try:
            token = bytes(token).decode("ascii")
        except UnicodeDecodeError:
            raise TokenError("malformed", "token is not ASCII") from None
    if not isinstance(token, str):
        raise TokenError("malformed", "token is not a string")
    token = token.strip()
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise TokenError("malformed", "empty or oversized token")
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("malformed", f"expected 3 dot-separated parts, got {len(parts)}")
    if not parts[0] or not parts[1]:
        raise TokenError("malformed", "empty header or payload (detached payloads are not accepted)")
    for part in parts:  # an empty signature is judged after the alg (e.g. alg "none")
        if not _B64URL.fullmatch(part) or len(part) % 4 == 1:
            raise TokenError("malformed", "part is not base64url")
    try:
        header_bytes = _decode_checked(parts[0])
        header = _json_object(header_bytes)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise TokenError("malformed", f"header: {exc}") from None
    return _Parsed(token, header, (parts[0], parts[1], parts[2]), header_bytes)


def unverified_header(token: str | bytes) -> dict[str, Any]:
    """The token's protected header, NOT verified (e.g. to read its ``kid``).

    Raises TokenError("malformed") if the token cannot be parsed.
    """
    return dict(_parse(token).header)


def _check_header(parsed: _Parsed) -> str:
    """Check alg and header params; return the kid (not yet looked up)."""
    header = parsed.header
    kid = header.get("kid")
    kid = kid if isinstance(kid, str) else None
    if "alg" not in header:
        raise TokenError("malformed", "header has no alg", kid=kid)
    if header["alg"] != ALG:
        raise TokenError("wrong_alg", f"alg {header['alg']!r} is not {ALG}", kid=kid)
    for name in _REFUSED_HEADER_PARAMS:
        if name in header:
            raise TokenError("malformed", f"header parameter {name!r} is not accepted", kid=kid)
    if kid is None:
        raise TokenError("unknown_kid", "header has no kid")
    return kid


def _verify_parsed(parsed: _Parsed, kid: str, public_key: ec.EllipticCurvePublicKey) -> dict[str, Any]:
    """Check the ES256 signature with `cryptography` directly and return the claims.

    The signature is the 64-byte r || s of RFC 7518 section 3.4; `cryptography` wants it DER
    encoded. Going straight to the ECDSA primitive, with the key object built once per key,
    keeps a verification within a few microseconds of one raw P-256 verify (bench/tokens.py).
    """
    try:  # the alphabet and lengths were checked in _parse
        raw = [parsed.header_bytes, _decode_checked(parsed.segments[1]), _decode_checked(parsed.segments[2])]
    except (ValueError, binascii.Error):  # pragma: no cover
        raise TokenError("malformed", "part is not base64url", kid=kid) from None
    # Canonical base64url only: an altered trailing character that decodes to
    # the same bytes is still a changed token.
    if not all(_is_canonical(s, b) for s, b in zip(parsed.segments, raw)):
        raise TokenError("bad_signature", "non-canonical base64url", kid=kid)
    signature = raw[2]
    if len(signature) != 64:
        raise TokenError("bad_signature", "an ES256 signature is 64 bytes", kid=kid)
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    signing_input = f"{parsed.segments[0]}.{parsed.segments[1]}".encode("ascii")
    try:
        public_key.verify(der, signing_input, _ECDSA_SHA256)
    except InvalidSignature:
        raise TokenError("bad_signature", "signature does not verify", kid=kid) from None
    try:
        claims = _json_object(raw[1])
    except (ValueError, UnicodeDecodeError) as exc:
        raise TokenError("malformed", f"payload: {exc}", kid=kid) from None
    return claims


def _crypto_public(key: ECKey) -> ec.EllipticCurvePublicKey:
    """The `cryptography` key object behind a joserfc EC key (public half)."""
    raw = key.raw_value
    return raw.public_key() if isinstance(raw, ec.EllipticCurvePrivateKey) else raw


def _public_key_from_jwk(jwk: Mapping[str, Any]) -> ECKey | None:
    """An ES256-usable public key from a JWK dict, or None if it is not one."""
    if not isinstance(jwk, Mapping) or jwk.get("kty") != "EC" or jwk.get("crv") != CURVE:
        return None
    if jwk.get("use", "sig") != "sig" or jwk.get("alg", ALG) != ALG:
        return None
    try:
        members = {k: jwk[k] for k in _PUBLIC_MEMBERS}
        return ECKey.import_key(members, {"use": "sig", "alg": ALG})
    except (KeyError, ValueError, TypeError, JoseError):
        return None


def verify_with_jwks(token: str | bytes, jwks: Mapping[str, Any]) -> dict[str, Any]:
    """Verify ``token`` against a published JWKS (``{"keys": [...]}``) and return its claims.

    Does what an offline verifier does with the platform's published keys.
    Keys in the set that are not EC P-256 signing keys for ES256 are ignored.
    Raises TokenError (same reasons as :meth:`TokenKeyStore.verify`); raises
    ValueError if ``jwks`` is not a JWKS.
    """
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(keys, list):
        raise ValueError('jwks must be a mapping with a "keys" list')
    parsed = _parse(token)
    kid = _check_header(parsed)
    for entry in keys:
        if isinstance(entry, Mapping) and entry.get("kid") == kid:
            key = _public_key_from_jwk(entry)
            if key is not None:
                return _verify_parsed(parsed, kid, _crypto_public(key))
    raise TokenError("unknown_kid", f"kid {kid!r} is not in the key set", kid=kid)


# --------------------------------------------------------------------------- key store


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _format_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("created_at is not a string")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("created_at has no time zone")
    return parsed.astimezone(UTC)


@dataclass(frozen=True)
class _StoredKey:
    kid: str
    created_at: datetime
    private: ECKey
    public: ECKey
    verifier: ec.EllipticCurvePublicKey

    def public_jwk(self) -> dict[str, Any]:
        jwk = {k: self.public[k] for k in _PUBLIC_MEMBERS}
        jwk.update({"kid": self.kid, "use": "sig", "alg": ALG})
        return jwk


class DirectoryListing:
    """What `scan` finds in a key directory, scanned again only when the directory changed: every
    key file is written under a temporary name and renamed into place, which changes the
    directory's mtime, so one stat() per call tells whether another process rotated (or removed)
    a key. Scans run one at a time; a missing directory lists nothing."""

    def __init__(self, directory: Path, scan: Callable[[], list]):
        self.directory = directory
        self._scan = scan
        self._lock = threading.Lock()
        self._listing: tuple[int, list] | None = None

    def __call__(self) -> list:
        try:
            stamp = os.stat(self.directory).st_mtime_ns
        except FileNotFoundError:
            return []
        listing = self._listing
        if listing is not None and listing[0] == stamp:
            return listing[1]
        with self._lock:
            found = self._scan()
            self._listing = (stamp, found)
        return found


class TokenKeyStore:
    """ES256 signing keys in ``directory``, one JWK file per key (see module docs).

    Cheap to construct: nothing is read or created until a method needs it. Each
    call costs one stat() of the directory; the listing is read again only when
    it changed (parsed files are cached by name/mtime/size), so several instances
    or processes on one directory agree at once after a rotation.
    """

    LOCK_NAME = ".lock"
    #: How often verification looks at the directory for keys removed by an operator (a new kid
    #: is looked for at once; signing always looks).
    RECHECK_SECONDS = 1.0

    def __init__(self, directory: str | os.PathLike[str]):
        self.directory = Path(directory)
        self._cache: dict[str, tuple[tuple[int, int], _StoredKey | None]] = {}
        self._listing = DirectoryListing(self.directory, self._scan)  # _scan's _cache is used under its lock
        self._by_kid: dict[str, _StoredKey] = {}
        self._checked_at = float("-inf")

    def __repr__(self) -> str:
        return f"TokenKeyStore({str(self.directory)!r})"

    # ---- reading

    def _keys(self) -> list[_StoredKey]:
        """All valid keys, newest (= active) first (read again only when the directory changed)."""
        return self._listing()

    def _scan(self) -> list[_StoredKey]:
        try:
            entries = [e for e in os.scandir(self.directory) if e.name.endswith(".json") and not e.name.startswith(".")]
        except FileNotFoundError:
            return []
        keys: list[_StoredKey] = []
        for entry in entries:
            try:
                st = entry.stat()
            except FileNotFoundError:
                continue
            stamp = (st.st_mtime_ns, st.st_size)
            cached = self._cache.get(entry.name)
            if cached is not None and cached[0] == stamp:
                key = cached[1]
            else:
                key = self._read_key_file(Path(entry.path))
                self._cache[entry.name] = (stamp, key)
            if key is not None:
                keys.append(key)
        listed = {e.name for e in entries}
        for name in set(self._cache) - listed:
            del self._cache[name]
        keys.sort(key=lambda k: (k.created_at, k.kid), reverse=True)
        self._by_kid = {k.kid: k for k in keys}
        return keys

    @staticmethod
    def _read_key_file(path: Path) -> _StoredKey | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            if data.get("kty") != "EC" or data.get("crv") != CURVE or "d" not in data:
                raise ValueError("not a P-256 private JWK")
            kid = data.get("kid")
            if not isinstance(kid, str) or path.name != f"{kid}.json":
                raise ValueError("kid does not match the file name")
            created_at = _parse_time(data.get("created_at"))
            params = {"use": "sig", "alg": ALG, "kid": kid}
            private = ECKey.import_key({k: data[k] for k in (*_PUBLIC_MEMBERS, "d")}, params)
            if private.thumbprint() != kid:
                raise ValueError("kid is not the key's RFC 7638 thumbprint")
            public = ECKey.import_key(private.as_dict(private=False), params)
        except FileNotFoundError:
            return None  # removed between listing and reading
        except (OSError, ValueError, TypeError, KeyError, JoseError) as exc:
            log.warning("ignoring token key file %s: %s", path, exc)
            return None
        return _StoredKey(kid, created_at, private, public, _crypto_public(public))

    @property
    def active_kid(self) -> str | None:
        """The kid new tokens are signed with; None if the store has no key yet."""
        keys = self._keys()
        return keys[0].kid if keys else None

    def kids(self) -> list[str]:
        """Every usable kid, active first."""
        return [k.kid for k in self._keys()]

    def public_jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The JWKS to publish: public parameters only, active key first."""
        return {"keys": [k.public_jwk() for k in self._keys()]}

    # ---- writing

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise KeyStoreError(f"cannot create key directory {self.directory}: {exc}") from exc
        if fcntl is None:  # pragma: no cover
            yield
            return
        fd = os.open(self.directory / self.LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _write_new_key(self, keys: list[_StoredKey]) -> str:
        """Generate a key newer than all of ``keys`` and store it atomically."""
        created_at = _utcnow()
        if keys and created_at <= keys[0].created_at:  # clock went backwards, or same microsecond
            created_at = keys[0].created_at + timedelta(microseconds=1)
        key = ECKey.generate_key(CURVE, {"use": "sig", "alg": ALG})
        kid = key.thumbprint()
        data = dict(key.as_dict(private=True))
        data.update({"kid": kid, "use": "sig", "alg": ALG, "created_at": _format_time(created_at)})
        target = self.directory / f"{kid}.json"
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=self.directory)
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2, sort_keys=True)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        self._fsync_directory()
        log.info("created token signing key %s in %s", kid, self.directory)
        return kid

    def _fsync_directory(self) -> None:
        try:
            dfd = os.open(self.directory, os.O_RDONLY)
        except OSError:  # pragma: no cover - e.g. Windows
            return
        try:
            os.fsync(dfd)
        except OSError:  # pragma: no cover
            pass
        finally:
            os.close(dfd)

    def ensure_key(self) -> str:
        """Create the first signing key if the store has none; return the active kid."""
        keys = self._keys()
        if keys:
            return keys[0].kid
        with self._write_lock():
            keys = self._keys()  # another process may have created one meanwhile
            if keys:
                return keys[0].kid
            return self._write_new_key(keys)

    def rotate(self) -> str:
        """Add a new key, which becomes the active signer; return its kid.

        Older keys are kept, so tokens they signed still verify.
        """
        with self._write_lock():
            return self._write_new_key(self._keys())

    # ---- the raw keys, for formats other than JWS (shortref.py)

    def signing_key(self) -> tuple[str, ec.EllipticCurvePrivateKey]:
        """The active key (created if the store is empty): its kid and the `cryptography` key."""
        keys = self._keys() or (self.ensure_key() and self._keys())
        return keys[0].kid, keys[0].private.raw_value

    def verifiers(self) -> list[tuple[str, ec.EllipticCurvePublicKey]]:
        """Every published key as (kid, `cryptography` public key), active first."""
        return [(k.kid, k.verifier) for k in self._keys()]

    # ---- signing and verifying

    def sign(self, claims: Mapping[str, Any]) -> str:
        """Sign ``claims`` with the active key (created if the store is empty).

        Returns a compact JWS with header ``{"typ": "JWT", "alg": "ES256", "kid": ...}``.
        ``iat``/``exp``/``nbf``, when present, must be numbers (seconds since the epoch).
        """
        if not isinstance(claims, Mapping):
            raise TypeError("claims must be a mapping")
        for name in _NUMERIC_CLAIMS:
            if name in claims:
                value = claims[name]
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise TypeError(f"claim {name!r} must be a number (seconds since the epoch)")
        keys = self._keys()
        if not keys:
            self.ensure_key()
            keys = self._keys()
        if not keys:  # pragma: no cover - the key file vanished again
            raise KeyStoreError(f"no usable signing key in {self.directory}")
        active = keys[0]
        return jwt.encode({"alg": ALG, "kid": active.kid}, dict(claims), active.private, algorithms=[ALG])

    def verify(self, token: str | bytes) -> dict[str, Any]:
        """Check ``token``'s signature against the store's keys; return its claims.

        Raises TokenError("malformed" | "wrong_alg" | "unknown_kid" | "bad_signature").
        Expiry is NOT checked.
        """
        parsed = _parse(token)
        kid = _check_header(parsed)
        key = self.current(kid)
        if key is None:
            raise TokenError("unknown_kid", f"kid {kid!r} is not in the key store", kid=kid)
        return _verify_parsed(parsed, kid, key.verifier)

    def current(self, kid: str):
        """The key with this kid if it is in the store now, else None (a key removed in another
        process stops counting within RECHECK_SECONDS; an unknown kid makes the store look again)."""
        now = time.monotonic()
        if now - self._checked_at >= self.RECHECK_SECONDS:
            self._checked_at = now
            self._keys()
        key = self._by_kid.get(kid)
        if key is None:  # perhaps rotated in another process just now: look again
            self._keys()
            key = self._by_kid.get(kid)
        return key
