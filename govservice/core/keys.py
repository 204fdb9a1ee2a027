"""Instance secrets: taken from the environment, or generated into `instance/` on first run.

Nothing here is ever committed: `instance/` is ignored by git. Production sets the
environment variables (or mounts the files) instead.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path


def instance_secret(instance_dir: str, name: str, env_var: str, nbytes: int = 32) -> str:
    """Return the secret from `env_var`, else from `instance/keys/<name>`, creating it once."""
    value = os.environ.get(env_var)
    if value:
        return value
    path = Path(instance_dir) / "keys" / name
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = base64.urlsafe_b64encode(secrets.token_bytes(nbytes)).decode()
    # Exclusive create: two processes starting together keep the first one's secret.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value
