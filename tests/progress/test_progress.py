"""进度查询 without signing in: the case number and its 查询码 show the steps and dates, nothing
personal; a wrong code says nothing about the case; the look-up is rate-limited; the 受理通知书
prints the code and a QR code leading to the look-up."""

import io
import re

import pytest
from pypdf import PdfReader

from govservice.progress import services as progress

from ..factories import accepted_case, submitted_case


def _code(app, number):
    with app.test_request_context():
        return progress.query_code(number)


def test_the_right_code_shows_the_steps_and_no_personal_data(app, client, clock):
    with app.app_context():
        case = accepted_case()
        number = case.number
    code = _code(app, number)
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{8}", code)
    answer = client.get("/progress/", query_string={"number": number, "code": code.lower()[:4] + "-" + code[4:]})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "个体工商户设立登记" in page and "已受理" in page
    assert "综合窗口受理" in page and "提交申请" in page
    for personal in (
        "张三",
        "张*",
        "110105198802150035",
        "110105********",
        "北京市朝阳区张三便利店",
        "13800000001",
        "赵",
    ):
        assert personal not in page, personal
    assert "Set-Cookie" not in answer.headers or "session" not in answer.headers["Set-Cookie"]


def test_a_wrong_code_or_an_unknown_number_gets_the_same_answer(app, client, clock):
    with app.app_context():
        number = submitted_case().number
    wrong = client.get("/progress/", query_string={"number": number, "code": "00000000"})
    unknown_number = "1" * 20
    unknown = client.get("/progress/", query_string={"number": unknown_number, "code": _code(app, unknown_number)})
    for answer in (wrong, unknown):
        page = answer.get_data(as_text=True)
        assert answer.status_code == 422 and "办件编号或查询码不正确" in page and "个体工商户" not in page
    empty = client.get("/progress/", query_string={"number": number, "code": ""}).get_data(as_text=True)
    assert "请填写查询码。" in empty and f'value="{number}"' in empty


@pytest.fixture
def app_config():
    return {}


class TestRateLimit:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://", "PROGRESS_RATE_LIMIT": "5/minute"}

    def test_guessing_codes_is_stopped(self, app, client, clock):
        number = "2" * 20
        answers = [
            client.get("/progress/", query_string={"number": number, "code": f"ABCD{i:04d}"}).status_code
            for i in range(6)
        ]
        assert answers == [422] * 5 + [429]
        assert client.get("/progress/").status_code == 200  # the empty form is not counted


def test_the_acceptance_notice_prints_the_code_and_a_qr_to_the_look_up(app, client, login_as, clock):
    with app.app_context():
        case = accepted_case()
        number, document_id = case.number, case.documents[-1].id
    login_as(client, "张三")
    pdf = client.get(f"/window/cases/{number}/documents/{document_id}.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).replace("\n", "")
    code = _code(app, number)
    assert f"查询码：{code}" in text
    zxingcpp = pytest.importorskip("zxingcpp")  # the QR is read back as a phone would
    import subprocess
    import tempfile
    from pathlib import Path

    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "n.pdf").write_bytes(pdf.data)
        subprocess.run(["pdftoppm", "-png", "-r", "150", "-singlefile", f"{tmp}/n.pdf", f"{tmp}/p"], check=True)
        with Image.open(f"{tmp}/p.png") as image:
            texts = [r.text for r in zxingcpp.read_barcodes(image.convert("L"))]
    assert f"http://localhost/progress/?number={number}&code={code}" in texts
