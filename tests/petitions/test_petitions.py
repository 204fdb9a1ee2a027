"""网上信访 / 12345: submitted online or at the window, routed to a department, the 信访工作条例's
limits (15 days to accept, 60 to handle, one extension of at most 30 days with its reason),
answered, rated, published only with consent, and red in supervision when past a limit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from govservice.audit.models import AuditEntry
from govservice.core.extensions import db
from govservice.notify.models import Notice
from govservice.petitions import services as petitions

from ..factories import person

FORM = {
    "kind": "complaint",
    "department": "scjgj",
    "title": "餐馆油烟扰民",
    "content": "示例路12号餐馆油烟直排，影响居民生活。",
    "consent": "1",
}


def _submit(consent=True):
    return petitions.submit(
        person("张三"),
        kind="complaint",
        title="餐馆油烟扰民",
        content="油烟直排",
        department_code="scjgj",
        publish_consent=consent,
    )


def test_a_request_online_is_accepted_answered_rated_and_published_with_consent(app, client, login_as, clock):
    login_as(client, "张三")
    bad = client.post("/petitions/new", data=dict(FORM, content=" "))
    assert bad.status_code == 422 and "请填写诉求内容。" in bad.get_data(as_text=True)
    assert "餐馆油烟扰民" in bad.get_data(as_text=True)  # what was typed is kept
    done = client.post("/petitions/new", data=FORM, follow_redirects=True).get_data(as_text=True)
    assert "诉求已提交，编号 XF110105" in done and "2026-12-08 前告知是否受理" in done  # 15 days
    with app.app_context():
        [p] = db.session.execute(select(petitions.Petition)).scalars().all()
        number = p.number
        assert p.content == "示例路12号餐馆油烟直排，影响居民生活。" and "油烟" not in p.content_enc  # encrypted
        assert (
            db.session.execute(select(Notice).where(Notice.kind == "petition.received")).scalars().first().recipient_id
            == person("刘洋").id
        )
    officer = app.test_client()
    login_as(officer, "刘洋")
    assert number in officer.get("/review/petitions").get_data(as_text=True)
    officer.post(f"/review/petitions/{number}/accept", data={"version": "1"})
    page = officer.get(f"/petitions/{number}").get_data(as_text=True)
    assert "办结期限 2027-01-22" in page  # 60 days from acceptance
    long = officer.post(
        f"/review/petitions/{number}/extend", data={"version": "2", "days": "31", "reason": "需现场核查"}
    )
    assert long.status_code == 422 and "延长期限请填写 1 到 30 日。" in long.get_data(as_text=True)
    officer.post(f"/review/petitions/{number}/extend", data={"version": "2", "days": "30", "reason": "需联合执法核查"})
    again = officer.post(f"/review/petitions/{number}/extend", data={"version": "3", "days": "5", "reason": "x"})
    assert "已经延长过一次" in again.get_data(as_text=True)
    officer.post(
        f"/review/petitions/{number}/answer",
        data={"version": "3", "answer": "已责令安装油烟净化设备。", "publish": "1"},
    )
    mine = client.get(f"/petitions/{number}").get_data(as_text=True)
    assert "已责令安装油烟净化设备。" in mine and "已延长 30 日：需联合执法核查" in mine
    client.post(f"/petitions/{number}/rating", data={"rating": "5", "comment": "处理及时"})
    public = app.test_client().get("/petitions/published").get_data(as_text=True)
    assert "餐馆油烟扰民" in public and "已责令安装油烟净化设备。" in public and "张" not in public.split("<main")[1]
    with app.app_context():
        p = petitions.get(number)
        assert (p.state, p.rating, p.answered_on_time, p.extended_days) == ("answered", 5, True, 30)
        actions = [
            a
            for (a,) in db.session.execute(
                select(AuditEntry.action).where(AuditEntry.subject == f"petition:{number}").order_by(AuditEntry.id)
            )
        ]
        assert [a for a in actions if not a.startswith("read.")] == [
            "petition.submit",
            "petition.accept",
            "petition.extend",
            "petition.answer",
            "petition.rate",
        ]
        assert "read.petition" in actions  # the officer opened it: a staff read, audited (govservice.access)


def test_without_consent_nothing_is_published_and_only_the_department_handles(ctx, clock):
    p = _submit(consent=False)
    with pytest.raises(petitions.PetitionError, match="只有受理部门的审批人员"):
        petitions.accept(p.number, person("陈静"), 1)
    petitions.accept(p.number, person("刘洋"), 1)
    with pytest.raises(petitions.PetitionError, match="诉求人未同意公开"):
        petitions.answer(p.number, person("刘洋"), 2, "已处理", publish=True)
    with pytest.raises(petitions.PetitionError, match="已被他人处理"):
        petitions.answer(p.number, person("刘洋"), 1, "已处理", publish=False)


def test_past_its_limit_a_request_is_red_in_supervision(app, client, login_as, clock):
    with app.app_context():
        number = _submit().number
    clock.advance(days=16)
    login_as(client, "孙强")
    page = client.get("/supervision/petitions").get_data(as_text=True)
    assert 'id="kpi-petitions-overdue">1<' in page and f'<tr class="overdue"><td>{number}</td>' in page
    assert "投诉" in page and "市场监督管理局" in page


def test_the_window_records_a_request_for_the_person_at_the_counter(app, client, login_as, clock):
    login_as(client, "赵敏")
    unknown = client.post("/window/petitions/new", data=dict(FORM, id_number="110105199001011232"))
    assert unknown.status_code == 422 and "人口基础信息库中没有该身份证号码" in unknown.get_data(as_text=True)
    done = client.post(
        "/window/petitions/new", data=dict(FORM, id_number="440106199507200025"), follow_redirects=True
    ).get_data(as_text=True)
    assert "已登记诉求" in done and "窗口登记" in done
    with app.app_context():
        [p] = db.session.execute(select(petitions.Petition)).scalars().all()
        assert p.requester.name == "李娜" and p.channel == "window"
