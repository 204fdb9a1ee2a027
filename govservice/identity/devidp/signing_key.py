"""The IdP's ID-token signing key, generated into the instance directory on first run.

Keeping the key across restarts matters: relying parties cache the JWKS, and ID tokens
issued before a restart must still verify (for example as `id_token_hint` at logout).
The file lives under `instance/`, which is never committed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from joserfc.jwk import KeySet, RSAKey

KEY_FILE_NAME = "devidp_signing_key.json"
SIGNING_ALG = "RS256"


def key_path(instance_dir: str) -> Path:
    """Where the signing key of the IdP using `instance_dir` is kept."""
    return Path(instance_dir) / "keys" / KEY_FILE_NAME


def load_or_create_signing_key(instance_dir: str) -> RSAKey:
    """Return the private RSA key from the instance directory, creating it once."""
    path = key_path(instance_dir)
    if path.exists():
        return _read_key(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = RSAKey.generate_key(2048, parameters={"alg": SIGNING_ALG, "use": "sig"}, auto_kid=True)
    _publish_once(path, json.dumps(key.as_dict(private=True)))
    # If another process started at the same moment, its key won; everyone uses that one.
    return _read_key(path)


def public_key_set(key: RSAKey) -> dict:
    """The JWKS document: only the public half, with `kid` so verifiers can pick the key."""
    return KeySet([key]).as_dict(private=False)


def _read_key(path: Path) -> RSAKey:
    return RSAKey.import_key(json.loads(path.read_text()))


def _publish_once(path: Path, text: str) -> None:
    """Write `text` to `path` with mode 0600 unless the file exists, never half-written.

    The key is written to a private temporary file first and then hard-linked into place,
    which fails atomically if the file already exists, so a reader never sees a partial key.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
