"""Uploaded materials and signed PDFs lie encrypted in the blob store, one data key per blob,
wrapped by the platform key and re-wrapped when DATA_KEYS rotates."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from govservice.core import blobs
from govservice.core.extensions import db

from ..factories import submitted_case

ID_CARD = b"%PDF-1.4 \xe5\xb1\x85\xe6\xb0\x91\xe8\xba\xab\xe4\xbb\xbd\xe8\xaf\x81 110105198802150035 copy"


@pytest.fixture
def app_config(tmp_path):
    return {"BLOB_DIR": str(tmp_path / "blobs")}  # this test's blobs only


def test_an_uploaded_material_lies_encrypted_and_reads_back_whole(app):
    with app.app_context():
        case = submitted_case()
        attachment = case.attachments[0]
        path = blobs.store()._path(attachment.blob_key)
        stored = path.read_bytes()
        original = blobs.store().get(attachment.blob_key)
        assert stored.startswith(b"GSB1") and b"%PDF" not in stored and b"ReportLab" not in stored
        assert original.startswith(b"%PDF") and b"ReportLab" in original
        assert attachment.blob_key != __import__("hashlib").sha256(original).hexdigest()  # the name hides the content


def test_every_blob_has_its_own_data_key(app):
    with app.app_context():
        store = blobs.store()
        one, two = store.put(ID_CARD), store.put(ID_CARD + b"2")
        first, second = store._path(one).read_bytes(), store._path(two).read_bytes()
        assert first[6:106] != second[6:106]  # different wrapped keys
        assert store.put(ID_CARD) == one  # the same content is stored once


def test_a_tampered_blob_is_refused_not_returned(app):
    with app.app_context():
        store = blobs.store()
        key = store.put(ID_CARD)
        path = store._path(key)
        data = bytearray(path.read_bytes())
        data[-1] ^= 1
        path.write_bytes(bytes(data))
        with pytest.raises(blobs.BlobUnreadable):
            store.get(key)


def test_rotating_the_platform_key_rewraps_without_losing_a_blob(app, runner_factory):
    with app.app_context():
        store = blobs.store()
        key = store.put(ID_CARD)
        sealed_before = store._path(key).read_bytes()
    new_key = Fernet.generate_key().decode()
    rotated = runner_factory(DATA_KEYS=[new_key, *app.config["DATA_KEYS"]])
    result = rotated.test_cli_runner().invoke(args=["govservice", "blobs", "rewrap"])
    assert result.exit_code == 0 and "re-wrapped under the newest key" in result.output, result.output
    with rotated.app_context():
        after = blobs.store()._path(key).read_bytes()
        assert after != sealed_before and after.endswith(sealed_before[-len(ID_CARD) - 16 :])  # content untouched
    only_new = runner_factory(DATA_KEYS=[new_key])
    with only_new.app_context():
        assert blobs.store().get(key) == ID_CARD  # the old key can go
    with app.app_context(), pytest.raises(blobs.BlobUnreadable):
        blobs.FileBlobStore(app.config["BLOB_DIR"], blobs.Envelope([Fernet.generate_key().decode()], b"k")).get(key)


def test_files_stored_before_encryption_are_read_and_then_sealed(app, runner_factory):
    with app.app_context():
        store = blobs.store()
        key = "ab" * 32
        path = store._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF legacy")
        assert store.get(key) == b"%PDF legacy"
    assert "1 of 1 blobs" in runner_factory().test_cli_runner().invoke(args=["govservice", "blobs", "rewrap"]).output
    with app.app_context():
        assert path.read_bytes().startswith(b"GSB1") and blobs.store().get(key) == b"%PDF legacy"


def test_rewrap_names_the_blobs_no_key_opens_and_fails(app, runner_factory):
    with app.app_context():
        key = blobs.store().put(ID_CARD)
    stranger = runner_factory(DATA_KEYS=[Fernet.generate_key().decode()])
    result = stranger.test_cli_runner().invoke(args=["govservice", "blobs", "rewrap"])
    assert result.exit_code == 1 and key in result.output


@pytest.fixture
def runner_factory(app):
    from govservice import create_app

    made = []

    def make(**config):
        other = create_app(dict(app.config, **config))
        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
