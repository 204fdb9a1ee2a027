"""容灾备份: one archive holding the database, the blob store and the instance keys, consistent.

Consistency comes from the order the platform writes in: a blob (an upload, a signed PDF) is
written, content-addressed and for good, *before* the row that names it commits, and nothing
deletes blobs. So a backup takes the database snapshot first (PostgreSQL: `pg_dump`, one
repeatable-read snapshot; SQLite: the online backup API) and copies the blob store after it:
every blob any row of the snapshot names is already there (blobs added meanwhile are harmless).
Queued verifications (Redis) are drained into the database first, so the snapshot holds them.

The keys (`instance/keys`: the data key, the audit log's keys, the QR-token keys, the
development CA) are what make the restored audit log and certificates verify and the personal
data readable: the archive holds them unless `--without-keys` (keys kept in a vault or the
environment), and is written readable by its owner only. Keep it as you keep the keys.

Restoring goes into an empty database and an empty blob folder only, checks every member
(each blob too: blobs are stored encrypted, so a name is not its file's hash) against the
manifest's SHA-256 before it changes anything, and
refuses anything else. Keys the empty deployment generated when it started are moved aside
(`keys.before-restore-<time>`), never deleted; restart the app afterwards, so it reads the
restored ones.

Archive (tar, gzip): manifest.json, database.dump (pg_dump custom format) or database.sqlite,
blobs/<aa>/<bb>/<name>, keys/...
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from ..core.extensions import db

FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, nothing was changed."""


def _libpq(url) -> str:
    """The SQLAlchemy URL as pg_dump / pg_restore take it."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _revision() -> str | None:
    if not inspect(db.engine).has_table("alembic_version"):
        return None
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _dump_database(url, target: Path) -> str:
    if url.get_backend_name() == "postgresql":
        name = "database.dump"
        done = subprocess.run(
            [
                "pg_dump",
                "--format=custom",
                "--no-owner",
                "--no-acl",
                f"--file={target / name}",
                f"--dbname={_libpq(url)}",
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()[:300]}")
        return name
    name = "database.sqlite"
    source = sqlite3.connect(url.database)
    copy = sqlite3.connect(target / name)
    with copy:
        source.backup(copy)  # a consistent copy while the platform keeps writing
    source.close()
    copy.close()
    return name


def create(archive: str, *, with_keys: bool = True) -> dict:
    """Write the backup to `archive` (.tar.gz); returns its manifest."""
    from ..certificates import verification

    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    verification.flush()  # queued verifications into the snapshot
    db.session.remove()
    with tempfile.TemporaryDirectory(prefix="govservice-backup-") as folder:
        staging = Path(folder)
        database = _dump_database(url, staging)
        revision = _revision()
        members = {database: _sha256(staging / database)}
        blobs_root = Path(current_app.config["BLOB_DIR"])
        blobs = (
            sorted(p for p in blobs_root.rglob("*") if p.is_file() and len(p.name) == 64) if blobs_root.exists() else []
        )
        keys_root = Path(current_app.config["INSTANCE_DIR"]) / "keys"
        keys = sorted(p for p in keys_root.rglob("*") if p.is_file()) if with_keys and keys_root.exists() else []
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(),
            "dialect": url.get_backend_name(),
            "revision": revision,
            "database": database,
            "blobs": len(blobs),
            "keys": bool(keys),
            "sha256": members,
        }
        partial = Path(archive + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            tar.add(staging / database, arcname=database)
            for path in blobs:  # after the snapshot (see the module docstring)
                name = f"blobs/{path.relative_to(blobs_root)}"
                manifest["sha256"][name] = _sha256(path)  # stored encrypted: the name is not the content's hash
                tar.add(path, arcname=name)
            for path in keys:
                name = f"keys/{path.relative_to(keys_root)}"
                manifest["sha256"][name] = _sha256(path)
                tar.add(path, arcname=name)
            data = json.dumps(manifest, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size, info.mtime, info.mode = len(data), int(datetime.now().timestamp()), 0o600
            tar.addfile(info, io.BytesIO(data))
        os.replace(partial, archive)
    return manifest


def _extract(tar: tarfile.TarFile, target: Path) -> None:
    """Regular files and folders under `target` only (no links, devices, absolute or `..` paths);
    tarfile's own "data" filter where this Python has it (3.11.4+), the same checks by hand before."""
    for member in tar.getmembers():
        parts = Path(member.name).parts
        if member.name.startswith("/") or ".." in parts or not (member.isfile() or member.isdir()):
            raise BackupError(f"the archive holds an entry that is not a plain file: {member.name!r}")
    if hasattr(tarfile, "data_filter"):
        tar.extractall(target, filter="data")
    else:
        tar.extractall(target)


def _empty_database() -> bool:
    return not inspect(db.engine).get_table_names()


def restore(archive: str) -> dict:
    """Restore `archive` into this deployment's database, blob folder and keys; each must be
    empty (the keys folder may hold only what the archive holds, byte for byte)."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    blobs_root = Path(current_app.config["BLOB_DIR"])
    keys_root = Path(current_app.config["INSTANCE_DIR"]) / "keys"
    if not _empty_database():
        raise BackupError(
            f"the database {url.render_as_string(hide_password=True)} is not empty: "
            "restore only into an empty one (nothing was changed)"
        )
    if blobs_root.exists() and any(p.is_file() for p in blobs_root.rglob("*")):
        raise BackupError(f"the blob folder {blobs_root} is not empty (nothing was changed)")
    with tempfile.TemporaryDirectory(prefix="govservice-restore-") as folder, tarfile.open(archive, "r:gz") as tar:
        staging = Path(folder)
        _extract(tar, staging)
        try:
            manifest = json.loads((staging / "manifest.json").read_text())
        except (OSError, ValueError):
            raise BackupError(f"{archive} is not a govservice backup (no manifest)") from None
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{archive}: backup format {manifest.get('format')!r}, this version reads {FORMAT}")
        if manifest["dialect"] != url.get_backend_name():
            raise BackupError(
                f"{archive} holds a {manifest['dialect']} database; DATABASE_URL is {url.get_backend_name()}"
            )
        for name, digest in manifest["sha256"].items():
            if not (staging / name).is_file() or _sha256(staging / name) != digest:
                raise BackupError(f"{archive}: {name} is missing or damaged (nothing was changed)")
        blobs = [p for p in (staging / "blobs").rglob("*") if p.is_file()] if (staging / "blobs").exists() else []
        if len(blobs) != manifest["blobs"]:
            raise BackupError(f"{archive}: {len(blobs)} blobs, the manifest says {manifest['blobs']}")
        db.session.remove()
        _load_database(url, staging / manifest["database"])
        for path in blobs:
            target = blobs_root / path.relative_to(staging / "blobs")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        if (staging / "keys").exists():
            _set_aside(keys_root)
            shutil.copytree(staging / "keys", keys_root)
            for path in keys_root.rglob("*"):
                if path.is_file():
                    path.chmod(0o600)
    db.engine.dispose()
    return manifest


def _set_aside(keys_root: Path) -> None:
    """Keys already in the instance folder (made by starting the app on the empty deployment,
    so nothing is encrypted or signed with them) are moved aside, never deleted."""
    if keys_root.exists() and any(keys_root.iterdir()):
        aside = keys_root.with_name(f"keys.before-restore-{datetime.now(UTC):%Y%m%dT%H%M%S}")
        keys_root.rename(aside)
    elif keys_root.exists():
        keys_root.rmdir()


def _load_database(url, dump: Path) -> None:
    if url.get_backend_name() == "postgresql":
        db.engine.dispose()
        done = subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--no-acl",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={_libpq(url)}",
                str(dump),
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise BackupError(f"pg_restore failed (nothing was restored): {done.stderr.strip()[:300]}")
        return
    db.engine.dispose()
    source = sqlite3.connect(dump)
    target = sqlite3.connect(url.database)
    with target:
        source.backup(target)
    source.close()
    target.close()
