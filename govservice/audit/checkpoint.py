"""Signed checkpoints of the audit log, in the transparency-log style: a C2SP tlog-checkpoint
body (origin, tree size, base64 root hash, and one extension line with the time) in a C2SP
signed note, signed with the platform's Ed25519 key.

    localhost/audit
    1024
    pLJxqfcNJVQAUXsyFfNYuFFlDGcG3BAbwJrmcGXdg4s=
    time 2026-11-23T02:00:00Z

    — localhost/audit Hv8yYq4ZJTQWSu5xbjyUbWLgvL8qdJ1dK1C9pIb1lDuPBPu2TlQ4qSJfX0u7...

The signature line is an em dash, the key name, and base64 of the 4-byte key hash
(SHA-256(name || "\\n" || 0x01 || public key)[:4]) followed by the 64-byte Ed25519 signature of
the note text (everything before the blank line, with its final newline). The verifier key is
published as `name+hash+base64(0x01 || public key)`, the form signed-note tools read.

The private key is 32 random bytes (an Ed25519 seed), from `AUDIT_CHECKPOINT_KEY` (base64) or
generated once into `instance/keys/audit_checkpoint_key` (see `govservice.core.keys`); it never
enters git. A second instance secret, `audit_leaf_key` (`AUDIT_LEAF_KEY`), keys the HMAC kept
with each sealed entry's leaf hash, so that a tree rebuilt by someone without the keys is
caught at the first entry they changed, not only at the next signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import Flask, current_app

from ..core.keys import instance_secret

ALG_ED25519 = b"\x01"
DASH = "\u2014"


class CheckpointError(ValueError):
    """A note that is malformed, or whose signature does not verify."""


def _b64decode(value: str) -> bytes:
    value = value.strip()
    padded = value + "=" * (-len(value) % 4)
    try:
        return base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64") from exc


@dataclass(frozen=True)
class Keys:
    name: str  # the key name, which is also the checkpoint origin
    private: Ed25519PrivateKey
    leaf_key: bytes

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def public_bytes(self) -> bytes:
        return self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def key_hash(self) -> bytes:
        return key_hash(self.name, self.public_bytes)

    @property
    def vkey(self) -> str:
        """The verifier key: `name+hash+base64(0x01 || public key)`."""
        return f"{self.name}+{self.key_hash.hex()}+{base64.b64encode(ALG_ED25519 + self.public_bytes).decode()}"

    def public_pem(self) -> str:
        return self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def leaf_mac(self, index: int, leaf: bytes) -> str:
        return hmac.new(self.leaf_key, index.to_bytes(8, "big") + leaf, hashlib.sha256).hexdigest()


def key_hash(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ALG_ED25519 + public).digest()[:4]


def origin_for(public_url: str) -> str:
    """The default origin: the platform's host (and port) with /audit, as logs name themselves."""
    parts = urlsplit(public_url)
    return f"{parts.netloc or 'localhost'}{parts.path.rstrip('/')}/audit"


class KeysMissing(RuntimeError):
    """The audit keys are neither configured nor in the instance folder."""


def _secret(app: Flask, name: str, env_var: str, create: bool) -> str:
    configured = app.config.get(env_var)
    if configured:
        return configured
    inst = app.config["INSTANCE_DIR"]
    if not create and not os.environ.get(env_var) and not (Path(inst) / "keys" / name).exists():
        raise KeysMissing(
            f"no {env_var} and no {Path(inst) / 'keys' / name}: this is not the instance that "
            "sealed the log (set GOVSERVICE_INSTANCE or the variable)"
        )
    return instance_secret(inst, name, env_var)


def load_keys(app: Flask, *, create: bool = True) -> Keys:
    seed = _b64decode(_secret(app, "audit_checkpoint_key", "AUDIT_CHECKPOINT_KEY", create))
    if len(seed) != 32:
        raise RuntimeError("AUDIT_CHECKPOINT_KEY must be 32 bytes (an Ed25519 seed) in base64")
    leaf_key = _b64decode(_secret(app, "audit_leaf_key", "AUDIT_LEAF_KEY", create))
    if len(leaf_key) < 16:
        raise RuntimeError("AUDIT_LEAF_KEY must be at least 16 bytes in base64")
    name = app.config.get("AUDIT_LOG_ORIGIN") or origin_for(app.config["PUBLIC_URL"])
    if not name or any(c.isspace() or c == "+" for c in name):
        raise RuntimeError("AUDIT_LOG_ORIGIN may not be empty or contain spaces or '+'")
    return Keys(name, Ed25519PrivateKey.from_private_bytes(seed), leaf_key)


def keys(*, create: bool = True) -> Keys:
    """The keys of the current app (read once per app); generated on first use unless `create` is False."""
    found = current_app.extensions.get("audit_keys")
    if found is None:
        found = current_app.extensions["audit_keys"] = load_keys(current_app, create=create)
    return found


def note_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def body(origin: str, size: int, root: bytes, at: datetime) -> str:
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\ntime {note_time(at)}\n"


def sign(k: Keys, size: int, root: bytes, at: datetime) -> str:
    text = body(k.name, size, root, at)
    signature = k.private.sign(text.encode())
    return f"{text}\n{DASH} {k.name} {base64.b64encode(k.key_hash + signature).decode()}\n"


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    time: str | None
    text: str


def parse(note: str) -> Checkpoint:
    """The checkpoint a note's text holds (its signature is not checked here)."""
    text, sep, _ = note.partition("\n\n")
    if not sep:
        raise CheckpointError("no signature block")
    lines = text.split("\n")
    if len(lines) < 3:
        raise CheckpointError("a checkpoint has an origin, a size and a root hash")
    origin, size, root = lines[:3]
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise CheckpointError("bad tree size")
    try:
        root_bytes = base64.b64decode(root, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError("bad root hash") from None
    if len(root_bytes) != 32:
        raise CheckpointError("bad root hash")
    time = next((line[5:] for line in lines[3:] if line.startswith("time ")), None)
    return Checkpoint(origin, int(size), root_bytes, time, text + "\n")


def verify(note: str, name: str, public: Ed25519PublicKey) -> Checkpoint:
    """The checkpoint, if `note` carries a valid signature by (`name`, `public`); else CheckpointError."""
    checkpoint = parse(note)
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    wanted = key_hash(name, raw)
    signatures = note.partition("\n\n")[2]
    if not signatures.endswith("\n"):
        raise CheckpointError("the signature block does not end with a newline")
    for line in signatures[:-1].split("\n"):
        prefix = f"{DASH} {name} "
        if not line.startswith(prefix):
            continue
        try:
            blob = base64.b64decode(line[len(prefix) :], validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(blob) != 68 or blob[:4] != wanted:
            continue
        try:
            public.verify(blob[4:], checkpoint.text.encode())
        except InvalidSignature:
            raise CheckpointError("the signature does not verify") from None
        return checkpoint
    raise CheckpointError(f"no signature by {name}")


def verify_with_keys(note: str, k: Keys) -> Checkpoint:
    """Check against the platform's key under the note's own origin (the origin follows
    PUBLIC_URL unless AUDIT_LOG_ORIGIN pins it, so older notes may carry an earlier one)."""
    origin = parse(note).origin
    return verify(note, origin, k.public)
