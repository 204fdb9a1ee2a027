"""Full phone and ID numbers: masked on the staff pages, shown after 查看完整信息 with a purpose (audited)."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from govservice.core import pii

from ..factories import accepted_case
from ..identity.helpers import audit_entries, page


def test_clerks_and_officers_see_phones_masked_until_they_say_why(app, login_as):
    with app.app_context():
        case = accepted_case()  # phone 13800000001, applicant 张三 110105198802150035
        number, case_id = case.number, case.id
    officer = app.test_client()
    login_as(officer, "刘洋")
    shown = page(officer.get(f"/review/cases/{number}"))
    assert "13800000001" not in shown and "138****0001" in shown and "110105198802150035" not in shown
    assert "查看完整信息" in shown

    refused = officer.post(f"/cases/{number}/personal-data", data={"purpose": " "})
    assert refused.status_code == 422 and "请说明查看完整信息的用途" in page(refused)
    assert "13800000001" not in page(refused)
    assert audit_entries(app, "personal_data.reveal") == []

    revealed = officer.post(f"/cases/{number}/personal-data", data={"purpose": "电话核实经营场所"})
    body = page(revealed)
    assert revealed.status_code == 200 and "13800000001" in body and "110105198802150035" in body
    assert revealed.headers["Cache-Control"] == "no-store"
    [(actor, subject, detail)] = audit_entries(app, "personal_data.reveal")
    assert subject == f"case:{number}" and detail["as"] == "officer" and "phone" in detail["fields"]
    with app.app_context():
        from govservice.audit.models import AuditEntry
        from govservice.core.extensions import db

        entry = db.session.execute(
            db.select(AuditEntry).where(AuditEntry.action == "personal_data.reveal")
        ).scalar_one()
        assert entry.purpose == "电话核实经营场所" and entry.case_id == case_id


def test_someone_who_may_not_see_the_case_cannot_reveal_it(app, login_as):
    with app.app_context():
        number = accepted_case().number
    outsider = app.test_client()
    login_as(outsider, "陈静")  # 卫生健康委员会
    response = outsider.post(f"/cases/{number}/personal-data", data={"purpose": "随便看看而已"})
    assert response.status_code == 403 and "13800000001" not in page(response)
    assert audit_entries(app, "personal_data.reveal") == []


def test_a_plaintext_read_before_is_not_given_to_a_process_without_its_key(app):
    """Decryptions are remembered by ciphertext (core.pii), and by the keys they were made with:
    with the key rotated in, the same value still reads; with the old key gone, it refuses."""
    with app.app_context():
        token = pii.encrypt("110105198802150035")
        assert pii.decrypt(token) == pii.decrypt(token) == "110105198802150035"
        keys = app.config["DATA_KEYS"]
        try:
            app.config["DATA_KEYS"] = [Fernet.generate_key().decode(), *keys]  # rotated: old key still there
            assert pii.decrypt(token) == "110105198802150035"
            app.config["DATA_KEYS"] = [Fernet.generate_key().decode()]  # a wrong key
            with pytest.raises(RuntimeError, match="wrong DATA_KEY"):
                pii.decrypt(token)
        finally:
            app.config["DATA_KEYS"] = keys
