"""Pre-review at the window: the three outcomes, each with its printed notice (PDF), the
supplement answered online or at the counter, 出件, and the rating given at the window."""

import io
import re

from pypdf import PdfReader

from govservice.cases import services as cases
from govservice.cases.models import Case
from govservice.core.extensions import db
from govservice.review import services as review

from ..conftest import pdf_upload
from ..factories import in_review_case, person, submitted_case


def _pdf_text(response) -> str:
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages).replace("\n", "")


def _notice_links(page: str) -> list[str]:
    return re.findall(r'href="(/window/cases/\d+/documents/\d+\.pdf)"', page)


def _case(app, number):
    with app.app_context():
        case = cases.find_case(number)
        return case.state, case.version


def test_acceptance_prints_the_notice_with_number_deadline_and_next_steps(app, client, login_as, clock):
    with app.app_context():
        number = submitted_case().number
    login_as(client, "赵敏")
    answer = client.post(f"/window/cases/{number}/accept", data={"version": "1"}, follow_redirects=True)
    page = answer.get_data(as_text=True)
    assert "已受理办件" in page and "2026-11-26" in page
    [link] = _notice_links(page)
    text = _pdf_text(client.get(link))
    assert "受理通知书" in text and f"编号：{number}-SL" in text and "张三：" in text
    assert "2026年11月26日" in text and "3个工作日" in text and "市场监督管理局" in text
    assert "接下来" in text and "补正期间不计入办理时限" in text


def test_a_supplement_notice_lists_every_item_with_its_reason_and_the_deadline(app, client, login_as, clock):
    with app.app_context():
        number = submitted_case().number
    login_as(client, "赵敏")
    answer = client.post(
        f"/window/cases/{number}/supplement",
        data={
            "version": "1",
            "need_premises": "1",
            "reason_premises": "租赁合同未签字",
            "other_name": "经营范围",
            "other_reason": "请按规范表述填写",
            "due": "2026-12-04",
        },
        follow_redirects=True,
    )
    page = answer.get_data(as_text=True)
    assert "已出具一次性告知书" in page
    text = _pdf_text(client.get(_notice_links(page)[0]))
    assert "补正材料一次性告知书" in text and f"{number}-BZ1" in text
    assert "经营场所使用证明租赁合同未签字" in text and "经营范围请按规范表述填写" in text
    assert "2026年12月04日前补正" in text
    assert _case(app, number) == ("supplement_requested", 2)


def test_a_supplement_without_reasons_or_with_a_bad_date_keeps_what_was_typed(app, client, login_as, clock):
    with app.app_context():
        number = submitted_case().number
    login_as(client, "赵敏")
    answer = client.post(
        f"/window/cases/{number}/supplement",
        data={"version": "1", "need_premises": "1", "reason_premises": "", "note": "当场说明"},
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "请写明“经营场所使用证明”需要补正的原因。" in page
    assert "当场说明</textarea>" in page
    bad_date = client.post(
        f"/window/cases/{number}/supplement",
        data={"version": "1", "need_premises": "1", "reason_premises": "x", "due": "12/04"},
    )
    assert bad_date.status_code == 422 and "补正期限的日期格式不正确" in bad_date.get_data(as_text=True)
    assert _case(app, number) == ("submitted", 1)


def test_a_refusal_without_a_reason_changes_nothing_and_with_one_prints_the_decision(app, client, login_as, clock):
    with app.app_context():
        number = submitted_case().number
    login_as(client, "赵敏")
    empty = client.post(f"/window/cases/{number}/refuse", data={"version": "1", "reason": " ", "basis": "x"})
    assert empty.status_code == 422 and "请填写不予受理的理由。" in empty.get_data(as_text=True)
    no_basis = client.post(f"/window/cases/{number}/refuse", data={"version": "1", "reason": "不属于本机关职权"})
    assert no_basis.status_code == 422 and "请填写不予受理的法律依据。" in no_basis.get_data(as_text=True)
    assert "不属于本机关职权</textarea>" in no_basis.get_data(as_text=True)
    assert _case(app, number) == ("submitted", 1)
    done = client.post(
        f"/window/cases/{number}/refuse",
        data={
            "version": "1",
            "reason": "申请事项不属于本机关职权范围",
            "basis": "《中华人民共和国行政许可法》第三十二条第一款第（二）项",
        },
        follow_redirects=True,
    )
    text = _pdf_text(client.get(_notice_links(done.get_data(as_text=True))[0]))
    assert "不予受理决定书" in text and "申请事项不属于本机关职权范围" in text
    assert "第三十二条第一款第（二）项" in text and "行政复议" in text
    assert _case(app, number)[0] == "not_accepted"


def test_the_applicant_answers_the_supplement_online_and_reads_the_notice(app, client, login_as, clock):
    with app.app_context():
        case = submitted_case()
        case = cases.request_supplement(
            case.id, person("赵敏"), case.version, [{"material": "premises", "reason": "复印件不清晰"}]
        )
        number, version = case.number, case.version
    login_as(client, "张三")
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "一次性告知补正" in page and "复印件不清晰" in page and 'name="supplement_premises"' in page
    assert "补正材料一次性告知书" in _pdf_text(client.get(_notice_links(page)[0]))
    missing = client.post(f"/cases/{number}/supplement", data={"version": str(version)}, follow_redirects=True)
    assert "请上传需要补正的材料：经营场所使用证明。" in missing.get_data(as_text=True)
    answered = client.post(
        f"/cases/{number}/supplement",
        data={
            "version": str(version),
            "supplement_premises": pdf_upload("clear-copy.pdf"),
            "answer_note": "已重新扫描",
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "补正材料已提交，等待综合窗口核验。" in answered.get_data(as_text=True)
    assert _case(app, number) == ("submitted", version + 1)
    other = app.test_client()
    login_as(other, "李娜")
    assert other.get(_notice_links(page)[0]).status_code == 403


def test_the_clerk_receives_the_supplement_at_the_counter(app, client, login_as, clock):
    with app.app_context():
        case = submitted_case()
        case = cases.request_supplement(
            case.id, person("赵敏"), case.version, [{"material": "premises", "reason": "未提交"}]
        )
        number, version = case.number, case.version
    login_as(client, "赵敏")
    page = client.get(f"/window/cases/{number}").get_data(as_text=True)
    assert "窗口代收补正材料" in page
    answer = client.post(
        f"/window/cases/{number}/resubmit",
        data={"version": str(version), "material_premises": pdf_upload()},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "补正材料已收取，请核验后受理。" in answer.get_data(as_text=True)
    assert _case(app, number)[0] == "submitted"


def test_a_stale_page_at_the_window_is_told_and_changes_nothing(app, client, login_as, clock):
    with app.app_context():
        number = submitted_case().number
    login_as(client, "赵敏")
    client.post(f"/window/cases/{number}/accept", data={"version": "1"})
    stale = client.post(
        f"/window/cases/{number}/supplement",
        data={"version": "1", "need_premises": "1", "reason_premises": "x"},
        follow_redirects=True,
    )
    assert "无法一次性告知补正：该办件当前状态为“已受理”" in stale.get_data(as_text=True)
    assert _case(app, number) == ("accepted", 2)


def test_the_result_is_handed_over_and_rated_at_the_window(app, client, login_as, clock):
    with app.app_context():
        case = in_review_case()
        case = review.decide(case.id, person("刘洋"), case.version, approve=False, opinion="不符合条件")
        db.session.refresh(case)
        number, version = case.number, case.version
    login_as(client, "赵敏")
    done = client.post(f"/window/cases/{number}/hand-over", data={"version": str(version)}, follow_redirects=True)
    assert "已出件：办理结果已交付申请人。" in done.get_data(as_text=True)
    again = client.post(f"/window/cases/{number}/hand-over", data={"version": str(version + 1)}, follow_redirects=True)
    assert "出件。" in again.get_data(as_text=True) and "该办件的结果已于" in again.get_data(as_text=True)
    poor = client.post(f"/window/cases/{number}/evaluation", data={"rating": "2", "comment": ""})
    assert poor.status_code == 422 and "给出差评时请写明不满意的原因" in poor.get_data(as_text=True)
    rated = client.post(
        f"/window/cases/{number}/evaluation", data={"rating": "4", "comment": "窗口服务耐心"}, follow_redirects=True
    )
    assert "已记录申请人的评价，谢谢。" in rated.get_data(as_text=True)
    with app.app_context():
        case = db.session.execute(db.select(Case)).scalar_one()
        assert case.handed_over_by.name == "赵敏" and case.evaluation.channel == "window"
        assert case.evaluation.rating == 4 and case.evaluation.recorded_by.name == "赵敏"


def test_finding_a_case_by_number(app, client, login_as):
    with app.app_context():
        number = submitted_case().number
    login_as(client, "赵敏")
    assert client.get(f"/window/find?number={number}").headers["Location"].endswith(f"/window/cases/{number}")
    missing = client.get("/window/find?number=123", follow_redirects=True).get_data(as_text=True)
    assert "没有找到办件编号为“123”的办件。" in missing
