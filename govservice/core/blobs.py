"""Blob storage for uploads and issued PDFs, outside the web root, encrypted at rest.

Envelope encryption (等级保护 level 3: 重要数据存储保密性): every blob is sealed with its own
random 256-bit data key (AES-256-GCM, `cryptography`); the data key is wrapped by the platform
key (Fernet under `DATA_KEYS`, the same keys as the personal data in the database) and stored in
the blob's header. Rotating the platform key (`DATA_KEYS=new,old`, then `flask govservice blobs
rewrap`) re-wraps each data key under the newest key without touching the sealed content; old
keys can be dropped afterwards. A copy of the blob folder alone reveals nothing.

A blob's name is an HMAC of its content under a key derived from the platform's lookup key, so
the same file is stored once, yet a name does not tell whether a given known file is there.
Files written before encryption (no header) are still read, and `rewrap` seals them.

    GSB1 | u16 length of the wrapped key | wrapped data key (Fernet token) | 12-byte nonce | AES-GCM
    ciphertext and tag, with the magic and the blob's name as associated data

The development implementation writes files under `instance/blobs`; another store (object
storage) needs `put`, `get` and, for `rewrap`, `keys`/`replace`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

MAGIC = b"GSB1"
NONCE = 12


class BlobUnreadable(RuntimeError):
    """A blob that cannot be opened with the configured keys: an operator's error, never silent."""


class Envelope:
    """Seals and opens blobs under the platform keys (newest first)."""

    def __init__(self, platform_keys: list[str], name_key: bytes):
        self.newest = Fernet(platform_keys[0])
        self.keys = MultiFernet([self.newest, *(Fernet(k) for k in platform_keys[1:])])
        self.name_key = name_key

    def name(self, data: bytes) -> str:
        return hmac.new(self.name_key, data, hashlib.sha256).hexdigest()

    def seal(self, key: str, data: bytes) -> bytes:
        data_key = AESGCM.generate_key(bit_length=256)
        wrapped = self.keys.encrypt(data_key)
        nonce = os.urandom(NONCE)
        sealed = AESGCM(data_key).encrypt(nonce, data, MAGIC + key.encode())
        return MAGIC + struct.pack(">H", len(wrapped)) + wrapped + nonce + sealed

    def open(self, key: str, blob: bytes) -> bytes:
        if not blob.startswith(MAGIC):
            return blob  # written before encryption; `rewrap` seals it
        wrapped, nonce, sealed = self._parts(blob)
        try:
            data_key = self.keys.decrypt(wrapped)
            return AESGCM(data_key).decrypt(nonce, sealed, MAGIC + key.encode())
        except (InvalidToken, InvalidTag) as exc:
            raise BlobUnreadable(f"blob {key} cannot be opened: a DATA_KEYS key is missing, or it was altered") from exc

    def rewrap(self, key: str, blob: bytes) -> bytes | None:
        """The blob with its data key wrapped under the newest platform key (a legacy plaintext
        blob sealed); None when it already is."""
        if not blob.startswith(MAGIC):
            return self.seal(key, blob)
        wrapped, nonce, sealed = self._parts(blob)
        try:
            self.newest.decrypt(wrapped)
            return None  # already under the newest key
        except InvalidToken:
            pass
        try:
            rotated = self.keys.rotate(wrapped)
        except InvalidToken as exc:
            raise BlobUnreadable(f"blob {key}: no DATA_KEYS key unwraps its data key") from exc
        return MAGIC + struct.pack(">H", len(rotated)) + rotated + nonce + sealed

    @staticmethod
    def _parts(blob: bytes) -> tuple[bytes, bytes, bytes]:
        (length,) = struct.unpack(">H", blob[4:6])
        wrapped = blob[6 : 6 + length]
        return wrapped, blob[6 + length : 6 + length + NONCE], blob[6 + length + NONCE :]


class FileBlobStore:
    def __init__(self, root: str, envelope: Envelope):
        self.root = Path(root)
        self.envelope = envelope

    def put(self, data: bytes) -> str:
        key = self.envelope.name(data)
        path = self._path(key)
        if not path.exists():
            self._write(path, self.envelope.seal(key, data))
        return key

    def get(self, key: str) -> bytes:
        return self.envelope.open(key, self._path(key).read_bytes())

    def keys(self):
        for path in self.root.glob("??/??/*"):
            if path.is_file() and len(path.name) == 64:
                yield path.name

    def rewrap(self, key: str) -> bool:
        """Re-wrap one blob's data key under the newest platform key; whether it changed."""
        path = self._path(key)
        rewrapped = self.envelope.rewrap(key, path.read_bytes())
        if rewrapped is None:
            return False
        self._write(path, rewrapped)
        return True

    @staticmethod
    def _write(path: Path, blob: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, path)

    def _path(self, key: str) -> Path:
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            raise KeyError(key)
        return self.root / key[:2] / key[2:4] / key


def envelope(app=None) -> Envelope:
    app = app or current_app
    cached = app.extensions.get("blob_envelope")
    if cached is None:
        name_key = hmac.new(app.config["ID_HASH_KEY"].encode(), b"govservice blob names", hashlib.sha256).digest()
        cached = app.extensions["blob_envelope"] = Envelope(app.config["DATA_KEYS"], name_key)
    return cached


def store() -> FileBlobStore:
    return FileBlobStore(current_app.config["BLOB_DIR"], envelope())
