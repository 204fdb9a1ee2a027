"""Blob storage for uploads and issued PDFs, outside the web root.

The development implementation writes content-addressed files under `instance/blobs`;
another store (object storage) only needs `put` and `get`.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from flask import current_app


class FileBlobStore:
    def __init__(self, root: str):
        self.root = Path(root)

    def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        path = self._path(key)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        return key

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def _path(self, key: str) -> Path:
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            raise KeyError(key)
        return self.root / key[:2] / key[2:4] / key


def store() -> FileBlobStore:
    return FileBlobStore(current_app.config["BLOB_DIR"])
