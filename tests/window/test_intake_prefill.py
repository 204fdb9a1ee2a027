"""Findings of issue 13 at the counter: a registry-prefilled item is filed for a walk-in, 0 is a
valid amount, the generated forms carry no "None" attributes, and the item picker has no default."""

import re

from govservice.cases.models import Case
from govservice.core.extensions import db

from .test_console import _call, _take

LHJY = "rsj-lhjy-cbdj"
LI_NA = "440106199507200025"


def _counter(app, client, login_as, id_number=LI_NA):
    _take(app.test_client())
    login_as(client, "赵敏")
    ticket = _call(client)
    client.post(f"{ticket}/identify", data={"id_number": id_number})
    return ticket


def _key(page):
    return re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"', page).group(1)


def test_the_counter_form_is_prefilled_from_the_population_registry_and_files(app, client, login_as, clock):
    ticket = _counter(app, client, login_as)
    page = client.get(f"{ticket}/apply/{LHJY}").get_data(as_text=True)
    assert re.search(r'id="birth_date"[^>]*readonly[^>]*value="1995-07-20"|value="1995-07-20"[^>]*readonly', page)
    assert re.search(r'<input[^>]*id="household_address"[^>]*readonly', page)
    assert re.search(r'<select disabled id="sex"', page) and '<input type="hidden" name="sex" value="女">' in page
    answers = {
        "employment": "其他灵活就业人员",
        "insurances": "养老、医疗",
        "contribution_base": "6821",
        "start_month": "2026-12-01",
        "residence_address": "北京市朝阳区示例路3号",
        "phone": "13800000002",
        "idempotency_key": _key(page),
        # what a browser might send for the read-only fields is ignored: the registry's values count
        "birth_date": "2000-01-01",
        "household_address": "伪造地址",
    }
    filed = client.post(f"{ticket}/apply/{LHJY}", data=answers, content_type="multipart/form-data")
    assert filed.status_code == 302, filed.get_data(as_text=True)
    with app.app_context():
        case = db.session.execute(db.select(Case)).scalar_one()
        assert case.form_data["birth_date"] == "1995-07-20" and case.form_data["sex"] == "女"
        assert case.form_data["household_address"] != "伪造地址" and case.channel == "window"


def test_a_zero_amount_is_an_answer_not_a_missing_one(app, client, login_as, clock):
    from ..factories import ANSWERS, ITEM

    ticket = _counter(app, client, login_as, "110105198802150035")
    page = client.get(f"{ticket}/apply/{ITEM}").get_data(as_text=True)
    data = {k: v for k, v in ANSWERS.items() if not k.startswith("operator")}
    filed = client.post(
        f"{ticket}/apply/{ITEM}",
        data=dict(data, capital="0", idempotency_key=_key(page)),
        content_type="multipart/form-data",
    )
    assert filed.status_code == 302, re.findall(r'class="error"[^>]*>([^<]+)', filed.get_data(as_text=True))
    empty = client.post(
        f"{ticket}/apply/{ITEM}",
        data=dict(data, capital="", idempotency_key="other"),
        content_type="multipart/form-data",
    )
    assert "请填写资金数额（万元）。" in empty.get_data(as_text=True)


def test_generated_forms_write_no_none_attributes(app, client, login_as, clock):
    ticket = _counter(app, client, login_as)
    page = client.get(f"{ticket}/apply/{LHJY}").get_data(as_text=True)
    assert '="None"' not in page
    refused = client.post(
        f"{ticket}/apply/{LHJY}", data={"idempotency_key": "x"}, content_type="multipart/form-data"
    ).get_data(as_text=True)
    assert '="None"' not in refused and 'aria-invalid="true"' in refused
    assert 'aria-describedby="contribution_base-help contribution_base-error"' in refused


def test_the_item_picker_makes_the_clerk_choose(app, client, login_as, clock):
    ticket = _counter(app, client, login_as)
    page = client.get(ticket).get_data(as_text=True)
    assert re.search(r'<select id="code" name="code" required[^>]*>\s*<option value="" selected>', page)
    answer = client.get(f"{ticket}/apply", query_string={"code": ""}, follow_redirects=True)
    assert "请选择事项。" in answer.get_data(as_text=True)


def test_the_timeline_says_what_happened_not_the_state_it_led_to(app, client, login_as, clock):
    from ..factories import accepted_case

    with app.app_context():
        number = accepted_case().number
    login_as(client, "张三")
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    timeline = page[page.index('<ol class="timeline">') :]
    timeline = timeline[: timeline.index("</ol>")]
    assert "申请人在网上提交了申请" in timeline and "综合窗口受理，办理时限开始计算" in timeline
    assert "<strong>待受理</strong>" not in timeline


def test_the_online_apply_form_writes_no_none_attributes(app, client, login_as, clock):
    login_as(client, "张三")
    page = client.get("/apply/scjgj-gtgsh-sldj")
    assert page.status_code == 200 and '="None"' not in page.get_data(as_text=True)
    refused = client.post("/apply/scjgj-gtgsh-sldj", data={"idempotency_key": "k"}, content_type="multipart/form-data")
    text = refused.get_data(as_text=True)
    assert '="None"' not in text and 'aria-invalid="true"' in text and "来源：" in text
