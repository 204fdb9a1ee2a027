"""Finding a service, reading its guide, downloading the blank form, asking a question."""

import io
import re
from pathlib import Path

from pypdf import PdfReader

from govservice.catalog.models import Consultation
from govservice.core.extensions import db
from govservice.notify.models import Notice


def test_searching_from_the_catalogue_page(client):
    page = client.get("/items/?q=开饭店").get_data(as_text=True)
    assert "找到" in page and "食品经营许可" in page and 'value="开饭店"' in page
    assert "居住证申领" not in page
    page = client.get("/items/?q=营业执照").get_data(as_text=True)
    assert "个体工商户设立登记" in page
    assert "没有找到相关事项" in client.get("/items/?q=量子纠缠").get_data(as_text=True)


def test_browsing_by_department_event_and_audience(client):
    page = client.get("/items/?department=gaj").get_data(as_text=True)
    assert "居住证申领" in page and "出生登记" in page and "食品经营许可" not in page
    page = client.get("/items/?event=工程建设").get_data(as_text=True)
    assert "建筑工程施工许可" in page and "居住证申领" not in page
    page = client.get("/items/?audience=enterprise").get_data(as_text=True)
    assert "公共场所卫生许可" in page and "居住证申领" not in page
    assert client.get("/items/?event=不存在").status_code == 200  # an unknown filter is ignored


def test_the_guide_shows_every_part_of_the_item(client):
    page = client.get("/items/zjw-jzgc-sgxk").get_data(as_text=True)
    for text in (
        "住房和城乡建设委员会",
        "人力资源和社会保障局",
        "行政许可",
        "《中华人民共和国建筑法》第七条、第八条",
        "已经确定施工企业",
        "7个工作日",
        "5个工作日",
        "建筑工程施工许可证",
        "不收费",
        "工作日 9:00-12:00",
        "010-12345683",
        "并联审查",
        "农民工工资专用账户开户证明及工资保证金存储凭证",
        "企业法人",
        "2级及以上",
        "工程投资额多少以下不需要办理施工许可",
        "表格下载（PDF）",
        "网上咨询",
        "工程名称",
    ):
        assert text in page, text
    page = client.get("/items/rsj-lhjy-cbdj").get_data(as_text=True)
    assert "持有居住证电子证照的免提交" in page and "灵活就业人员参保登记结果告知书" in page
    assert "登录后可在线咨询" in page
    assert client.get("/items/no-such-item").status_code == 404


def test_the_blank_form_is_a_pdf_with_the_fields_and_an_embedded_chinese_font(app, client):
    response = client.get("/items/gaj-jzz-sl/form.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.data))
    text = "".join(page.extract_text() for page in reader.pages)
    compact = re.sub(r"\s", "", text)
    for label in ("居住证申领申请表", "常住户口所在地住址", "居住地住址证明", "申请人承诺"):
        assert label in compact, label
    fonts = {
        str(f.get_object().get("/BaseFont"))
        for p in reader.pages
        for f in (p["/Resources"].get("/Font") or {}).values()
    }
    chosen = app.extensions["cjk_font"]
    if chosen.embedded:  # the certificates' font (fonts-wqy-zenhei on CI), subset-embedded
        assert any("+" in f and "STSong" not in f for f in fonts), fonts
    else:
        assert any("STSong" in f for f in fonts), fonts


def test_a_question_needs_a_sign_in(client):
    response = client.post("/items/gaj-jzz-sl/consult", data={"question": "没有租房合同能办居住证吗？"})
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_a_too_short_question_is_explained_and_kept(app, client, login_as):
    login_as(client, "张三")
    response = client.post("/items/wsjkw-ggcswsxk/consult", data={"question": "嗯"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "请把问题写清楚（至少5个字）。" in page and ">嗯</textarea>" in page
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Consultation.id))).scalar_one() == 0


def test_the_department_answers_and_publishes_a_question_as_faq(app, client, login_as):
    login_as(client, "张三")
    question = "我是张三，身份证110105198802150035，开理发店需要健康证吗？"
    client.post("/items/wsjkw-ggcswsxk/consult", data={"question": question})
    assert question in client.get("/items/wsjkw-ggcswsxk").get_data(as_text=True)  # mine, waiting
    with app.app_context():
        consultation = db.session.execute(db.select(Consultation)).scalar_one()
        assert question not in consultation.question_enc  # encrypted at rest
        cid = consultation.id

    other = app.test_client()  # an officer of another department may not answer
    login_as(other, "刘洋")
    assert question not in other.get("/items/consultations").get_data(as_text=True)
    refused = other.post(f"/items/consultations/{cid}", data={"answer": "需要"}, follow_redirects=True)
    assert "只有该事项实施部门的工作人员可以答复。" in refused.get_data(as_text=True)

    officer = app.test_client()
    login_as(officer, "陈静")  # 卫生健康委员会
    assert question in officer.get("/items/consultations").get_data(as_text=True)
    missing = officer.post(
        f"/items/consultations/{cid}", data={"answer": "需要。", "publish": "1"}, follow_redirects=True
    )
    assert "公开为常见问题时，请填写公开的问题表述" in missing.get_data(as_text=True)
    officer.post(
        f"/items/consultations/{cid}",
        data={
            "answer": "需要。直接为顾客服务的从业人员应取得有效健康合格证明。",
            "publish": "1",
            "public_question": "开理发店，员工需要健康证吗？",
        },
    )

    guide = app.test_client().get("/items/wsjkw-ggcswsxk").get_data(as_text=True)
    assert "开理发店，员工需要健康证吗？" in guide and "直接为顾客服务的从业人员应取得有效健康合格证明" in guide
    assert "110105198802150035" not in guide and "我是张三" not in guide
    with app.app_context():
        notice = db.session.execute(db.select(Notice).where(Notice.kind == "consultation.answered")).scalar_one()
        assert notice.url.endswith("/items/wsjkw-ggcswsxk#consultation")
    assert "您的咨询已答复" in client.get("/notices/").get_data(as_text=True)


def test_a_citizen_cannot_open_the_consultation_inbox(client, login_as):
    login_as(client, "张三")
    assert client.get("/items/consultations").status_code == 403


def test_the_catalogue_and_guide_read_in_english_too(app, client, tmp_path):
    _english(app, client, tmp_path)
    page = client.get("/items/?q=居住证").get_data(as_text=True)
    assert "Search services" in page and "1 service found." in page  # a plural through Babel, not "1 services"
    guide = client.get("/items/rsj-lhjy-cbdj").get_data(as_text=True)
    assert (
        "Ask online" in guide
        and "Blank form (PDF)" in guide
        and "Not needed if you hold a Residence Permit certificate" in guide
    )


def _english(app, client, tmp_path):
    """English mode, from this test's own compiled copy of the catalogue."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    source = Path(__file__).resolve().parents[2] / "govservice" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
    target = tmp_path / "en" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with source.open("rb") as po, (target / "messages.mo").open("wb") as mo:
        write_mo(mo, read_po(po, locale="en"))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(tmp_path)
    client.post("/lang", data={"lang": "en", "next": "/"})


def test_a_guide_in_english_mode_has_no_chinese_content(app, client, tmp_path):
    """Guide texts, FAQs, materials, their forms, field labels, the kind and the result: all in
    English; only proper names of laws' Chinese titles are gone too (they carry English titles)."""
    _english(app, client, tmp_path)
    guide = client.get("/items/scjgj-spjyxk-bg").get_data(as_text=True)
    for text in (
        "Change to a food business licence",
        "Administrative licence",  # the kind, through the Babel catalogue
        "Measures on Food Business Licensing and Filing (SAMR Decree No. 78), Articles 30 and 31",
        "You hold a valid food business licence;",
        "Free of charge",
        "Working days 9:00-12:00 and 13:30-17:00 (closed on public holidays)",
        "Does the licence&#39;s period of validity start again after a change?",
        "Food business licence (original and duplicate)",
        "Original",
        "Number of the licence held",
        "Food Business Licence",  # the certificate type, from licenses/spjyxkz.toml
    ):
        assert text in guide, text
    main = guide.split("<main", 1)[1].split("</main>", 1)[0]
    for chinese in ("食品经营许可证正本", "不收费", "原许可证编号", "变更后许可证有效期", "行政许可", "食品经营许可证"):
        assert chinese not in main, chinese
    client.post("/lang", data={"lang": "zh_Hans_CN", "next": "/"})
    guide = client.get("/items/scjgj-spjyxk-bg").get_data(as_text=True)
    assert "原许可证编号" in guide and "Number of the licence held" not in guide
