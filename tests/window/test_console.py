"""The window console: tickets, calling the next applicant, identifying them against the
population registry, and filing their application on their behalf."""

import re

import pytest

from govservice.audit.models import AuditEntry
from govservice.cases.models import Case
from govservice.core.extensions import db
from govservice.identity.services import find_person
from govservice.window.models import QueueTicket

from ..conftest import pdf_upload
from ..factories import ANSWERS, ITEM

HALL = "cy-zwfwzx"
FORM = {k: v for k, v in ANSWERS.items() if k not in ("operator_name", "operator_id_number")}
UNKNOWN = "110105199001011232"  # well formed, in no registry


def _take(client):
    page = client.post(f"/window/kiosk/{HALL}").get_data(as_text=True)
    return re.search(r"<strong>(A\d{3})</strong>", page).group(1)


def _call(clerk):
    answer = clerk.post("/window/call")
    assert answer.status_code == 302 and "/window/tickets/" in answer.headers["Location"], answer.headers
    return answer.headers["Location"]


def test_the_hall_machine_hands_out_numbers_and_the_clerk_calls_the_oldest(app, client, login_as, clock):
    kiosk = app.test_client()
    assert [_take(kiosk), _take(kiosk), _take(kiosk)] == ["A001", "A002", "A003"]
    login_as(client, "赵敏")
    console = client.get("/window/").get_data(as_text=True)
    assert "等候人数：3" in console and "下一位：A001" in console
    first = client.get(_call(client)).get_data(as_text=True)
    assert "A001 号" in first and "申请人身份证号码" in first
    client.get(_call(client))
    with app.app_context():
        statuses = db.session.execute(db.select(QueueTicket.status).order_by(QueueTicket.seq)).scalars().all()
    assert statuses == ["called", "called", "waiting"]


def test_calling_with_nobody_waiting_says_so(client, login_as):
    login_as(client, "赵敏")
    page = client.post("/window/call", follow_redirects=True).get_data(as_text=True)
    assert "当前没有等候的号。" in page


def test_an_unknown_hall_has_no_machine(client):
    assert client.get("/window/kiosk/nowhere").status_code == 404


def test_a_citizen_cannot_call_or_serve(app, client, login_as):
    _take(app.test_client())
    login_as(client, "张三")
    assert client.post("/window/call").status_code == 403
    with app.app_context():
        assert db.session.execute(db.select(QueueTicket.status)).scalar_one() == "waiting"


def test_a_bad_or_unknown_id_number_is_explained_and_nothing_is_attached(app, client, login_as, clock):
    _take(app.test_client())
    login_as(client, "赵敏")
    ticket = _call(client)
    bad = client.post(f"{ticket}/identify", data={"id_number": "110105198802150036"})
    assert bad.status_code == 422 and "身份证号码校验码不正确" in bad.get_data(as_text=True)
    unknown = client.post(f"{ticket}/identify", data={"id_number": UNKNOWN})
    page = unknown.get_data(as_text=True)
    assert unknown.status_code == 422 and "人口基础信息库中没有该身份证号码" in page
    assert f'value="{UNKNOWN}"' in page and 'aria-invalid="true"' in page
    with app.app_context():
        assert db.session.execute(db.select(QueueTicket.person_id)).scalar_one() is None
        assert find_person(UNKNOWN) is None
        lookups = (
            db.session.execute(
                db.select(AuditEntry).where(
                    AuditEntry.action == "registry.lookup", AuditEntry.purpose == "综合窗口核验申请人身份"
                )
            )
            .scalars()
            .all()
        )
        assert [e.detail["result"] for e in lookups] == ["not_found"]  # the look-up is audited all the same


def test_a_walk_in_is_identified_and_the_case_is_filed_for_them(app, client, login_as, clock):
    _take(app.test_client())
    login_as(client, "赵敏")
    ticket = _call(client)
    answer = client.post(f"{ticket}/identify", data={"id_number": "440106199507200025"}, follow_redirects=True)
    page = answer.get_data(as_text=True)
    assert "已核验申请人身份：李娜。" in page and "440106********0025" in page
    form = client.get(f"{ticket}/apply/{ITEM}").get_data(as_text=True)
    assert 'value="李娜"' in form and 'value="440106199507200025"' in form  # from the registry, read-only
    key = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"', form).group(1)
    filed = client.post(
        f"{ticket}/apply/{ITEM}",
        data=dict(FORM, idempotency_key=key, operator_name="冒名", material_premises=pdf_upload()),
        content_type="multipart/form-data",
    )
    assert filed.status_code == 302
    number = filed.headers["Location"].split("?")[0].rsplit("/", 1)[-1]
    with app.app_context():
        case = db.session.execute(db.select(Case)).scalar_one()
        assert case.number == number and case.channel == "window" and case.applicant.name == "李娜"
        assert case.form_data["operator_name"] == "李娜" and case.events[0].actor.name == "赵敏"
    assert number in client.get(ticket).get_data(as_text=True)  # the visit lists its cases


def test_the_window_takes_in_without_a_material_and_pre_review_tells_what_is_missing(app, client, login_as, clock):
    _take(app.test_client())
    login_as(client, "赵敏")
    ticket = _call(client)
    client.post(f"{ticket}/identify", data={"id_number": "110105198802150035"})
    form = client.get(f"{ticket}/apply/{ITEM}").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"', form).group(1)
    filed = client.post(
        f"{ticket}/apply/{ITEM}", data=dict(FORM, idempotency_key=key), content_type="multipart/form-data"
    )
    page = client.get(filed.headers["Location"]).get_data(as_text=True)
    assert re.search(r'<tr class="missing">\s*<td>经营场所使用证明</td>', page)
    refused = client.post(filed.headers["Location"] + "/accept", data={"version": "1"}, follow_redirects=True)
    assert "材料不齐全，不能受理：缺少经营场所使用证明。请出具一次性告知书。" in refused.get_data(as_text=True)


def test_an_invalid_field_at_the_counter_is_shown_beside_it(app, client, login_as, clock):
    _take(app.test_client())
    login_as(client, "赵敏")
    ticket = _call(client)
    client.post(f"{ticket}/identify", data={"id_number": "110105198802150035"})
    answer = client.post(
        f"{ticket}/apply/{ITEM}", data=dict(FORM, idempotency_key="k", phone="12"), content_type="multipart/form-data"
    )
    assert answer.status_code == 422 and "请填写正确的手机号码或固定电话。" in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Case.id))).scalar_one() == 0


def test_the_form_waits_for_the_applicant_to_be_identified(app, client, login_as):
    _take(app.test_client())
    login_as(client, "赵敏")
    ticket = _call(client)
    page = client.get(f"{ticket}/apply/{ITEM}", follow_redirects=True).get_data(as_text=True)
    assert "请先核验申请人身份。" in page


def test_finishing_and_skipping_tickets(app, client, login_as):
    kiosk = app.test_client()
    _take(kiosk), _take(kiosk)
    login_as(client, "赵敏")
    first = _call(client)
    assert "A001 号已过号。" in client.post(f"{first}/finish", data={"absent": "1"}, follow_redirects=True).get_data(
        as_text=True
    )
    second = _call(client)
    assert "A002 号已办结。" in client.post(f"{second}/finish", follow_redirects=True).get_data(as_text=True)
    assert "这个号已经处理完毕。" in client.post(f"{second}/finish", follow_redirects=True).get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(QueueTicket.status).order_by(QueueTicket.seq)).scalars().all() == [
            "absent",
            "done",
        ]


def test_another_clerks_ticket_is_not_mine(app, client, login_as):
    from ..factories import staff

    _take(app.test_client())
    login_as(client, "赵敏")
    ticket = _call(client)
    with app.app_context():
        staff("孙强", "clerk")
    other = app.test_client()
    login_as(other, "孙强")
    assert other.get(ticket).status_code == 404


def test_a_business_item_is_not_filed_for_a_person_at_the_counter(app, client, login_as, clock):
    _take(app.test_client())
    login_as(client, "赵敏")
    ticket = _call(client)
    client.post(f"{ticket}/identify", data={"id_number": "110105198802150035"})
    page = client.get(ticket).get_data(as_text=True)
    assert 'value="scjgj-gtgsh-sldj"' in page and 'value="zjw-jzgc-sgxk"' not in page
    with app.app_context():
        from govservice.catalog import services as catalog
        from govservice.window import services as window

        ticket_id = int(ticket.rsplit("/", 1)[-1])
        clerk = find_person("110101198808081231")
        with pytest.raises(window.WindowError, match="该事项由企业申请"):
            window.intake(clerk, ticket_id, catalog.current_item("zjw-jzgc-sgxk"), {}, [], "k")
        assert db.session.execute(db.select(db.func.count(Case.id))).scalar_one() == 0
