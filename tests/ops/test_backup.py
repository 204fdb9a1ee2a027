"""容灾备份 (issue 10, point 7): one archive of the database, the blob store and the keys;
restored into an empty database and folder, the audit log verifies, the certificates verify,
the signed PDFs and the personal data read back; a damaged archive or a used target is refused."""

from __future__ import annotations

import hashlib
import tarfile

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from govservice import create_app
from govservice.audit import sealer
from govservice.audit import verify as audit_verify
from govservice.cases.models import Case
from govservice.certificates import services as certificates
from govservice.certificates import verification
from govservice.core.extensions import db
from govservice.ops import backup

from ..factories import issue, submitted_case

# Committed: a backup reads the database from outside the test's connection (pg_dump, a copy of the
# SQLite file) and sees committed data only; the restore writes into another database.
pytestmark = pytest.mark.committed


@pytest.fixture
def empty_target(tmp_path, database_url):
    """An empty database beside the test one (PostgreSQL: `<name>_restore`, made afresh), and folders."""
    url = make_url(database_url)
    name = f"{url.database}_restore" if url.get_backend_name() == "postgresql" else None

    def drop(create: bool = False) -> None:
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if create:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()

    if name:
        drop(create=True)
        target = url.set(database=name).render_as_string(hide_password=False)
    else:
        target = f"sqlite:///{tmp_path}/restored.sqlite"
    yield {
        "SQLALCHEMY_DATABASE_URI": target,
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "BLOB_DIR": str(tmp_path / "instance" / "blobs"),
    }
    if name:  # not left behind on the server
        drop()


def test_a_backup_restored_into_an_empty_deployment_verifies(app, ctx, clock, tmp_path, empty_target):
    certificate = issue()
    identifier, token, pdf_sha256 = certificate.identifier, certificate.token, certificate.pdf_sha256
    case = submitted_case()
    number, answers = case.number, case.form_data
    assert sealer.seal().sealed > 0
    archive = str(tmp_path / "govservice.tar.gz")
    manifest = backup.create(archive)
    assert manifest["blobs"] >= 2 and manifest["keys"] and manifest["revision"]
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "manifest.json" in names and manifest["database"] in names and any(n.startswith("keys/") for n in names)

    fresh = create_app(dict(app.config, **empty_target))  # starting it generates keys of its own ...
    with fresh.app_context():
        restored = backup.restore(archive)  # ... which the restore sets aside
        assert restored["created_at"] == manifest["created_at"]
    assert list((tmp_path / "instance").glob("keys.before-restore-*"))

    again = create_app(dict(app.config, **empty_target))  # the restarted app reads the restored keys
    with again.test_request_context():
        report = audit_verify.verify()
        assert report.ok and report.entries > 0, report.lines()
        status, snap = verification.verify_token(token, channel="page", verifier="restore test")
        assert status == "valid" and snap.identifier == identifier
        restored_certificate = certificates.find(identifier)
        assert hashlib.sha256(certificates.pdf_bytes(restored_certificate)).hexdigest() == pdf_sha256
        assert db.session.execute(db.select(Case).where(Case.number == number)).scalar_one().form_data == answers
        db.session.remove()
        with pytest.raises(backup.BackupError, match="is not empty"):
            backup.restore(archive)  # never over a deployment in use
        db.engine.dispose()


def test_a_damaged_archive_is_refused_before_anything_changes(app, ctx, clock, tmp_path, empty_target):
    issue()
    archive = str(tmp_path / "govservice.tar.gz")
    backup.create(archive, with_keys=False)
    damaged = str(tmp_path / "damaged.tar.gz")
    with tarfile.open(archive) as source, tarfile.open(damaged, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read() if member.isfile() else None
            if member.name.startswith("blobs/"):
                data = data[:-1] + bytes([data[-1] ^ 1])  # one bit of one signed PDF
            target.addfile(member, __import__("io").BytesIO(data) if data is not None else None)
    fresh = create_app(dict(app.config, **empty_target))
    with fresh.app_context():
        with pytest.raises(backup.BackupError, match="missing or damaged"):
            backup.restore(damaged)
        from sqlalchemy import inspect

        assert not inspect(db.engine).get_table_names()  # nothing was restored
        db.engine.dispose()
    assert not (tmp_path / "instance" / "blobs").exists() or not any((tmp_path / "instance" / "blobs").rglob("*"))


def test_the_command_line(app, ctx, clock, tmp_path):
    archive = str(tmp_path / "b.tar.gz")
    result = app.test_cli_runner().invoke(args=["govservice", "backup", "create", archive])
    assert result.exit_code == 0 and "it holds secrets" in result.output
    assert (tmp_path / "b.tar.gz").stat().st_mode & 0o077 == 0  # readable by its owner only
    refused = app.test_cli_runner().invoke(args=["govservice", "backup", "restore", archive])
    assert refused.exit_code == 1 and "is not empty" in refused.output
