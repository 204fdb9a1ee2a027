"""Open redirects, NUL bytes, invisible characters, over-long fields: each a clear 4xx, nothing changed."""

from __future__ import annotations

import pytest

from govservice.security import clean_filename, clean_text, safe_path

EVIL = [
    "/%09/evil.example/",
    "/\t/evil.example/",
    "//evil.example/",
    "/\\evil.example",
    "https://evil.example/",
    "/\n/evil.example",
    " /x",
    "/\u202e/evil",
    "javascript:alert(1)",
    "",
    None,
    "x" * 3000,
]


@pytest.mark.parametrize("target", EVIL)
def test_no_place_outside_the_site_is_a_safe_path(target):
    from urllib.parse import unquote

    if isinstance(target, str) and "%" in target:  # as the query string delivers it, decoded once
        target = unquote(target)
    assert safe_path(target) is None


def test_local_paths_with_their_queries_stay():
    assert safe_path("/cases/110105?page=2") == "/cases/110105?page=2"
    assert safe_path("/items/营业执照") == "/items/营业执照"


def test_sign_in_never_goes_back_to_another_site(client):
    links = client.get("/auth/login?next=/%09/evil.example/").get_data(as_text=True)
    assert "/auth/login/devidp?next" not in links  # the provider's link does not carry it on
    client.get("/auth/login/devidp?next=/%09/evil.example/")
    with client.session_transaction() as session:
        assert "after_login" not in session


@pytest.mark.parametrize("target", ["/%09/evil.example/", "/\t/evil.example/", "/\\evil.example"])
def test_the_language_switch_never_goes_to_another_site(client, target):
    from urllib.parse import unquote

    response = client.post("/lang", data={"lang": "en", "next": unquote(target)})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_an_expired_form_goes_back_to_this_site_only(app):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    away = client.post("/auth/logout", headers={"Referer": "https://evil.example/phish"})
    assert away.status_code == 400 and "evil.example" not in away.headers.get("Location", "")
    back = client.post("/auth/logout", headers={"Referer": "http://localhost/items/scjgj-gtgsh-sldj"})
    assert back.status_code == 302 and back.headers["Location"] == "/items/scjgj-gtgsh-sldj"


@pytest.mark.parametrize("url", ["/items/a%00b", "/window/kiosk/a%00b", "/cases/a%00b", "/?q=%00", "/v/a%00b"])
def test_a_nul_byte_in_a_path_or_query_is_a_clear_400(client, url):
    response = client.get(url)
    assert response.status_code == 400, url
    assert "请求中含有无效字符" in response.get_data(as_text=True)


def test_a_nul_byte_in_a_form_field_is_a_clear_400(client):
    response = client.post("/lang", data={"lang": "en\x00", "next": "/"})
    assert response.status_code == 400 and "请求中含有无效字符" in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers  # refused before the session is touched


def test_a_nul_byte_in_a_client_id_at_the_token_endpoint_is_an_oauth_error(client):
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": "a\x00b", "client_secret": "x"}
    )
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_bidi_and_zero_width_characters_are_removed():
    assert clean_text("北京\u202e示例\u200b科技\ufeff有限公司 ") == "北京示例科技有限公司"
    assert clean_text("e\u0301") == "é"  # NFC


@pytest.mark.parametrize(
    "raw, kept",
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\a\\租赁合同.pdf", "租赁合同.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("a\x07b.pdf", "ab.pdf"),
        ("..", "file"),
        ("", "file"),
        ("长" * 300 + ".pdf", "长" * 116 + ".pdf"),
    ],
)
def test_upload_file_names_lose_path_parts_and_invisible_characters(raw, kept):
    assert clean_filename(raw) == kept


def test_a_very_long_text_field_is_not_called_a_file(app, client, login_as):
    from govservice.cases.models import Case

    from ..conftest import pdf_upload
    from ..identity.helpers import count

    login_as(client, "张三")
    response = client.post(
        "/apply/scjgj-gtgsh-sldj",
        data={"business_name": "长" * 1_000_000, "material_premises": pdf_upload()},
        content_type="multipart/form-data",
    )
    heading = response.get_data(as_text=True).split("<h1>")[1].split("</h1>")[0]
    assert response.status_code == 413 and "填写的内容过长" in heading and "文件" not in heading
    assert count(app, Case) == 0


def test_a_business_name_with_bidi_overrides_reaches_the_case_and_the_certificate_clean(app, client, login_as):
    from govservice.cases.models import Case
    from govservice.certificates import services as certificates
    from govservice.core.extensions import db

    from .. import factories
    from ..cases.test_views import _post

    login_as(client, "张三")
    response = _post(
        client,
        business_name="北京市朝阳区\u202e张三\u200b便利店",
        material_premises=helpers_pdf("../租赁\u202e合同.pdf"),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        case = db.session.execute(db.select(Case)).scalar_one()
        assert case.form_data["business_name"] == "北京市朝阳区张三便利店"
        assert case.attachments[0].filename == "租赁合同.pdf"
        licence = factories.issue("yyzz", business_name="北京\u202e示例\u2066便利店\u200d")
        assert certificates.find(licence.identifier).data["business_name"] == "北京示例便利店"


def helpers_pdf(name):
    from ..conftest import pdf_upload

    data, _name = pdf_upload()
    return (data, name)
