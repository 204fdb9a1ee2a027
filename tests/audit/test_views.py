"""The public checkpoint URLs (no sign-in, no session), checked as an outside party would, with
nothing but the published key and `cryptography`; and the supervisors' page of the log."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import timedelta

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from govservice.audit import sealer
from govservice.audit import services as audit
from govservice.audit.models import AuditEntry
from govservice.core import clock as platform_clock
from govservice.core.extensions import db

from ..factories import accepted_case, append, person
from .helpers import sql


def _leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def outside_verify_note(note: str, vkey: str) -> tuple[str, int, bytes]:
    """A signed-note check written from the C2SP specs alone (not the platform's code)."""
    name, key_id, encoded = vkey.strip().split("+", 2)
    raw = base64.b64decode(encoded)
    assert raw[0] == 1 and len(raw) == 33, "an Ed25519 verifier key"
    assert hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex() == key_id
    text, signatures = note.split("\n\n", 1)
    text += "\n"
    for line in signatures.splitlines():
        dash, signer, blob = line.split(" ")
        blob = base64.b64decode(blob)
        if dash == "\u2014" and signer == name and blob[:4].hex() == key_id:
            Ed25519PublicKey.from_public_bytes(raw[1:]).verify(blob[4:], text.encode())  # raises if bad
            origin, size, root = text.splitlines()[:3]
            return origin, int(size), base64.b64decode(root)
    raise AssertionError("no signature by the published key")


def outside_root_from_inclusion(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes:
    """RFC 9162 2.1.3.2, written out again here."""
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = _node(r, p)
        fn, sn = fn >> 1, sn >> 1
    assert sn == 0
    return r


@pytest.fixture
def sealed(ctx):
    ids = append(20, action="test.public")
    sealer.seal(batch=6)
    return ids


def _listed(body: str) -> list[str]:
    """The actions of the rows shown, newest first."""
    return re.findall(r'<tr id="entry-\d+" class="\w+" data-action="([^"]+)"', body)


def _no_session(response):
    assert "Set-Cookie" not in response.headers, "a public URL must not start a session"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_the_latest_checkpoint_is_public_and_verifies_against_the_published_key(app, sealed):
    anonymous = app.test_client()
    vkey = anonymous.get("/.well-known/audit-checkpoint-key")
    assert vkey.status_code == 200 and vkey.mimetype == "text/plain"
    _no_session(vkey)
    note = anonymous.get("/audit/checkpoint")
    assert note.status_code == 200 and note.mimetype == "text/plain"
    _no_session(note)
    origin, size, root = outside_verify_note(note.get_data(as_text=True), vkey.get_data(as_text=True))
    assert origin == "localhost/audit" and size == audit.latest_checkpoint().tree_size
    assert root.hex() == audit.latest_checkpoint().root_hash
    assert re.search(r"^time \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", note.get_data(as_text=True), re.M)
    pem = anonymous.get("/.well-known/audit-checkpoint-key.pem").get_data()
    raw = base64.b64decode(vkey.get_data(as_text=True).strip().split("+", 2)[2])[1:]
    assert load_pem_public_key(pem).public_bytes_raw() == raw
    # a changed note no longer verifies
    forged = note.get_data(as_text=True).replace(f"\n{size}\n", f"\n{size + 1}\n")
    with pytest.raises((InvalidSignature, AssertionError)):
        outside_verify_note(forged, vkey.get_data(as_text=True))


def test_the_index_names_the_urls(app, sealed):
    body = app.test_client().get("/audit/").get_json()
    assert body["origin"] == "localhost/audit" and body["verifier_key"].startswith("localhost/audit+")
    assert body["tree_size"] == audit.latest_checkpoint().tree_size
    assert body["urls"]["checkpoint"] == "http://localhost/audit/checkpoint"


def test_every_checkpoint_is_listed_page_by_page(app, sealed):
    anonymous = app.test_client()
    seen, url = [], "/audit/checkpoints?limit=2"
    while url:
        page = anonymous.get(url)
        _no_session(page)
        body = page.get_json()
        seen.extend(body["checkpoints"])
        url = body["next"] and body["next"].replace("http://localhost", "")
    sizes = [c["tree_size"] for c in seen]
    assert sizes == sorted(sizes) and sizes[-1] == audit.latest_checkpoint().tree_size and len(sizes) >= 4
    vkey = anonymous.get("/.well-known/audit-checkpoint-key").get_data(as_text=True)
    for c in seen:
        _, size, root = outside_verify_note(c["note"], vkey)
        assert size == c["tree_size"] and base64.b64encode(root).decode() == c["root_hash"]
    one = anonymous.get(f"/audit/checkpoint/{sizes[1]}")
    assert one.status_code == 200 and one.get_data(as_text=True) == seen[1]["note"]
    assert anonymous.get("/audit/checkpoint/999999999").status_code == 404
    assert anonymous.get("/audit/checkpoints?after=x").status_code == 400


def test_an_inclusion_proof_of_one_entry_checks_out_against_a_signed_checkpoint(app, sealed):
    anonymous = app.test_client()
    vkey = anonymous.get("/.well-known/audit-checkpoint-key").get_data(as_text=True)
    entry_id = sealed[7]
    proof = anonymous.get(f"/audit/proof/{entry_id}")
    _no_session(proof)
    body = proof.get_json()
    _, size, root = outside_verify_note(body["checkpoint"], vkey)
    assert body["tree_size"] == size
    path = [base64.b64decode(h) for h in body["audit_path"]]
    leaf = base64.b64decode(body["leaf_hash"])
    assert outside_root_from_inclusion(body["leaf_index"], size, leaf, path) == root
    # ... and the leaf is the entry's: its canonical form, hashed (what the platform could show its subject)
    with app.app_context():
        row = db.session.execute(db.select(*sealer.ENTRY_COLUMNS).where(AuditEntry.id == entry_id)).one()
        assert _leaf(sealer.canonical(body["leaf_index"], *row)) == leaf
    # in an earlier tree too
    earlier = audit.checkpoints()[2]
    old = anonymous.get(f"/audit/proof/{entry_id}?tree_size={earlier.tree_size}").get_json()
    assert (
        outside_root_from_inclusion(
            old["leaf_index"], earlier.tree_size, leaf, [base64.b64decode(h) for h in old["audit_path"]]
        ).hex()
        == earlier.root_hash
    )
    assert anonymous.get("/audit/proof/987654").status_code == 404
    assert anonymous.get(f"/audit/proof/{entry_id}?tree_size=1").status_code == 400


def test_an_unsealed_entry_has_no_proof_yet(app, sealed):
    with app.app_context():
        [fresh] = append(1)
    assert app.test_client().get(f"/audit/proof/{fresh}").status_code == 404


def test_a_consistency_proof_between_two_checkpoints(app, sealed):
    from govservice.audit import merkle

    anonymous = app.test_client()
    old, new = audit.checkpoints()[1], audit.latest_checkpoint()
    body = anonymous.get(f"/audit/consistency?first={old.tree_size}&second={new.tree_size}").get_json()
    proof = [base64.b64decode(h) for h in body["consistency"]]
    assert merkle.verify_consistency(
        old.tree_size, new.tree_size, bytes.fromhex(old.root_hash), bytes.fromhex(new.root_hash), proof
    )
    assert anonymous.get("/audit/consistency?first=5&second=2").status_code == 400
    assert anonymous.get("/audit/consistency").status_code == 400


def test_no_checkpoint_yet(app):
    with app.app_context():
        sql("DELETE FROM audit_checkpoints")
        sql("UPDATE audit_entries SET leaf_index = NULL, leaf_hash = NULL, leaf_mac = NULL")
    assert app.test_client().get("/audit/checkpoint").status_code == 404


# --- the supervisors' page --------------------------------------------------------------------


@pytest.mark.parametrize("name,status", [("孙强", 200), ("郑华", 200), ("张三", 403), ("赵敏", 403), ("刘洋", 403)])
def test_only_supervisors_and_administrators_open_the_log(client, login_as, name, status):
    login_as(client, name)
    response = client.get("/supervision/audit/")
    assert response.status_code == status
    if status == 403:
        assert "您没有权限访问此页面。" in response.get_data(as_text=True)


def test_signed_out_the_page_asks_for_a_login(client):
    response = client.get("/supervision/audit/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_the_page_lists_filters_pages_and_masks(app, client, login_as, clock):
    with app.app_context():
        append(60, action="test.paging")
        case = accepted_case()
        number, case_id, applicant = case.number, case.id, person("张三").id
        audit.record(
            "test.masking",
            actor=applicant,
            subject="person:1",
            case_id=case_id,
            purpose="核对 110105198802150035 的手机 13800000001",
            detail={"id_number": "110105198802150035", "email": "zhangsan@example.cn"},
        )
        db.session.commit()
        sealer.seal()
        append(1, action="test.late")
    login_as(client, "孙强")
    page = client.get("/supervision/audit/").get_data(as_text=True)
    assert "审计日志" in page and "待封存" in page and "已封存" in page and "树大小" in page
    assert "110105198802150035" not in page and "13800000001" not in page and "zhangsan@" not in page
    assert "110105********0035" in page and "138****0001" in page
    assert "张三" not in page.split("<main", 1)[1] and "张*" in page

    by_action = client.get("/supervision/audit/?action=test.masking").get_data(as_text=True)
    assert _listed(by_action) == ["test.masking"] and "已封存" in by_action
    by_case = _listed(client.get(f"/supervision/audit/?case={number}").get_data(as_text=True))
    assert {"case.accept", "case.submit", "test.masking"} <= set(by_case) and "test.paging" not in by_case
    by_actor = _listed(client.get("/supervision/audit/?actor=110105198802150035").get_data(as_text=True))
    assert "test.masking" in by_actor and "case.submit" in by_actor and "test.paging" not in by_actor
    assert _listed(client.get(f"/supervision/audit/?actor={applicant}").get_data(as_text=True)) == by_actor
    by_subject = client.get("/supervision/audit/?subject=test:7").get_data(as_text=True)
    assert _listed(by_subject) == ["test.paging"]
    with app.app_context():
        at = db.session.execute(db.select(AuditEntry.at).where(AuditEntry.action == "test.masking")).scalar_one()
    today = at.astimezone(platform_clock.BEIJING).date()
    in_range = client.get(f"/supervision/audit/?from={today}&to={today}&action=test.masking").get_data(as_text=True)
    assert _listed(in_range) == ["test.masking"]
    tomorrow = today + timedelta(days=1)
    empty = client.get(f"/supervision/audit/?from={tomorrow}&action=test.masking").get_data(as_text=True)
    assert "没有符合条件的记录。" in empty

    unknown = client.get("/supervision/audit/?case=NO-SUCH")
    assert unknown.status_code == 422 and "没有找到该办件编号。" in unknown.get_data(as_text=True)
    bad_date = client.get("/supervision/audit/?from=2026-13-01")
    assert bad_date.status_code == 422 and "日期格式不正确" in bad_date.get_data(as_text=True)

    # keyset pages: 50, then the rest, none twice, newest first
    seen, url = [], "/supervision/audit/?action=test.paging"
    while url:
        body = client.get(url).get_data(as_text=True)
        seen.extend(int(i) for i in re.findall(r'<tr id="entry-(\d+)"', body))
        more = re.search(r'<a rel="next" href="([^"]+)"', body)
        url = more and more.group(1).replace("&amp;", "&")
    assert len(seen) == 60 and len(set(seen)) == 60 and seen == sorted(seen, reverse=True)


def test_a_departments_supervisor_sees_only_its_cases(app, client, login_as, clock):
    from ..factories import staff

    with app.app_context():
        case = accepted_case()  # 市场监督管理局
        staff("李娜", "supervisor", "wsjkw")
        number = case.number
    login_as(client, "李娜")
    page = client.get("/supervision/audit/").get_data(as_text=True)
    assert "仅显示这些部门办件的记录" in page and number not in page and not _listed(page)


def test_the_page_uses_its_indexes(app):
    """Each filter has an (x, id) index for keyset pages; the sealer reads a partial index."""
    from sqlalchemy import inspect

    with app.app_context():
        indexes = {i["name"]: i["column_names"] for i in inspect(db.engine).get_indexes("audit_entries")}
    for columns in (["action", "id"], ["actor_id", "id"], ["case_id", "id"], ["subject", "id"], ["at"], ["id"]):
        assert columns in indexes.values(), columns
    assert indexes["ix_audit_entries_unsealed"] == ["id"]


def test_the_log_is_in_beijing_time(app, client, login_as):
    with app.app_context():
        [entry_id] = append(1, action="test.time")
        at = db.session.get(AuditEntry, entry_id).at
    login_as(client, "孙强")
    page = client.get("/supervision/audit/?action=test.time").get_data(as_text=True)
    assert at.astimezone(platform_clock.BEIJING).strftime("%Y-%m-%d %H:%M:%S") in page
