"""好差评: the applicant rates a completed case online (or at the window); 1-2 opens a
rectification task the department's supervisor must answer; ratings feed supervision."""

import re

import pytest

from govservice.core.extensions import db
from govservice.review import services as review
from govservice.supervision import services as supervision
from govservice.supervision.models import Evaluation, RectificationTask

from ..factories import accepted_case, in_review_case, person, staff


def _completed(approve=False):
    case = in_review_case()
    case = review.decide(case.id, person("刘洋"), case.version, approve=approve, opinion="结论")
    db.session.refresh(case)
    return case


def test_the_applicant_rates_the_completed_case_online(app, client, login_as, clock):
    with app.app_context():
        number = _completed().number
    login_as(client, "张三")
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "您对本次服务满意吗？" in page and 'name="rating" value="5"' in page
    rated = client.post(
        f"/cases/{number}/evaluation", data={"rating": "5", "comment": "一次办好"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "感谢您的评价。" in rated and "您的评价：5 分：一次办好" in rated
    again = client.post(
        f"/cases/{number}/evaluation", data={"rating": "1", "comment": "改主意了"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "该办件已经评价过。" in again
    with app.app_context():
        assert db.session.execute(db.select(Evaluation.rating)).scalars().all() == [5]


@pytest.mark.parametrize(
    "rating, comment, message",
    [
        ("", "x", "请选择 1 到 5 分的评价。"),
        ("6", "x", "请选择 1 到 5 分的评价。"),
        ("abc", "x", "请选择 1 到 5 分的评价。"),
        ("2", "  ", "给出差评时请写明不满意的原因"),
        ("3", "字" * 501, "评价内容不能超过 500 个字。"),
    ],
)
def test_bad_ratings_are_explained_and_nothing_is_stored(ctx, clock, rating, comment, message):
    case = _completed()
    with pytest.raises(supervision.SupervisionError, match=message):
        supervision.evaluate(case.id, person("张三"), rating, comment, channel="online")
    assert db.session.execute(db.select(db.func.count(Evaluation.id))).scalar_one() == 0


def test_only_the_applicant_and_only_after_completion(ctx, clock):
    case = accepted_case()
    with pytest.raises(supervision.SupervisionError, match="办件办结后才能评价"):
        supervision.evaluate(case.id, person("张三"), 5, None, channel="online")
    case = _completed()
    with pytest.raises(supervision.SupervisionError, match="只有申请人可以评价"):
        supervision.evaluate(case.id, person("李娜"), 5, None, channel="online")
    with pytest.raises(supervision.SupervisionError, match="只有综合窗口工作人员"):
        supervision.evaluate(case.id, person("刘洋"), 5, None, channel="window")


def test_a_poor_rating_opens_a_rectification_task_the_supervisor_must_answer(app, client, login_as, clock):
    with app.app_context():
        case = _completed()
        evaluation = supervision.evaluate(case.id, person("张三"), "1", "材料被退回三次", channel="online")
        task = evaluation.rectification
        assert task.status == "open" and task.department.code == "scjgj"
        assert task.due.isoformat() == "2026-12-14"  # 15 working days from Monday 23 November
        number = case.number
    login_as(client, "孙强")
    page = client.get("/supervision/rectifications").get_data(as_text=True)
    assert number in page and "材料被退回三次" in page and "待答复" in page
    assert "整改任务（待答复 1）" in client.get("/supervision/").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    task_url = re.search(r'action="(/supervision/rectifications/\d+/answer)"', page).group(1)
    empty = client.post(task_url, data={"version": version, "answer": " "})
    assert empty.status_code == 422 and "请填写整改情况。" in empty.get_data(as_text=True)
    answered = client.post(
        task_url, data={"version": version, "answer": "已约谈经办人，补正告知改为一次性告知"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "整改情况已答复。" in answered and "已约谈经办人" in answered
    twice = client.post(task_url, data={"version": version, "answer": "再答一次"})
    assert twice.status_code == 422 and "该整改任务已经答复" in twice.get_data(as_text=True)
    applicant = app.test_client()
    login_as(applicant, "张三")
    assert "部门整改答复：已约谈经办人" in applicant.get(f"/cases/{number}").get_data(as_text=True)


def test_a_good_rating_opens_no_task_and_another_departments_supervisor_cannot_answer(ctx, clock):
    case = _completed()
    supervision.evaluate(case.id, person("张三"), 3, None, channel="online")
    assert db.session.execute(db.select(db.func.count(RectificationTask.id))).scalar_one() == 0
    other = _completed()
    task = supervision.evaluate(other.id, person("张三"), 2, "态度差", channel="online").rectification
    outsider = staff("李娜", "supervisor", "wsjkw")
    with pytest.raises(supervision.SupervisionError, match="只有该部门的督办人员"):
        supervision.answer_rectification(task.id, outsider, task.version, "不是我们部门的")
    assert supervision.rectification_tasks(outsider) == []
    assert db.session.get(RectificationTask, task.id).status == "open"
