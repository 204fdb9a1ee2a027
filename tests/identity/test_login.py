"""Signing in through the live development provider: one number, one person."""

import pytest
import requests

from govservice.audit.models import AuditEntry
from govservice.core.extensions import db
from govservice.identity import services
from govservice.identity.idnumbers import InvalidNumber, normalise_credit_code, normalise_id_number
from govservice.identity.models import IdentityLink, Person


def _people(app):
    with app.app_context():
        return db.session.execute(db.select(db.func.count(Person.id))).scalar_one()


def test_login_creates_one_person_keyed_by_the_encrypted_id_number(app, client, login):
    before = _people(app)
    response = login(client, "张三")
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    assert "张*" in client.get("/").get_data(as_text=True)
    login(app.test_client(), "张三")
    assert _people(app) == before + 1
    with app.app_context():
        person = services.find_person("110105198802150035")
        assert person.name == "张三" and person.level_of_assurance == 2
        stored = db.session.execute(
            db.select(Person.id_number_enc, Person.id_number_hash).where(Person.id == person.id)
        ).one()
        assert "110105198802150035" not in "".join(stored)
        assert [(link.provider, link.subject) for link in person.links] == [("devidp", "dev-zhangsan")]
        assert (
            db.session.execute(
                db.select(db.func.count(AuditEntry.id)).where(AuditEntry.action == "identity.sign_in")
            ).scalar_one()
            == 2
        )


def test_the_account_page_shows_masked_data(client, login):
    login(client, "张三")
    page = client.get("/auth/me").get_data(as_text=True)
    assert "110105********0035" in page and "110105198802150035" not in page


def test_cancelling_at_the_provider_creates_nothing(app, client):
    before = _people(app)
    authorize = client.get("/auth/login/devidp").headers["Location"]
    query = requests.utils.urlparse(authorize).query
    state = dict(p.split("=", 1) for p in query.split("&"))["state"]
    response = client.get(f"/auth/callback/devidp?error=access_denied&state={state}", follow_redirects=True)
    assert "您已取消登录。" in response.get_data(as_text=True)
    assert _people(app) == before


def test_a_callback_with_a_wrong_state_is_refused(app, client):
    before = _people(app)
    client.get("/auth/login/devidp")
    response = client.get("/auth/callback/devidp?code=whatever&state=forged", follow_redirects=True)
    assert "登录未完成" in response.get_data(as_text=True)
    assert _people(app) == before


def test_a_replayed_callback_is_refused(app, client, login):
    first = login(client, "李娜")
    assert first.status_code == 302
    # the same callback URL (code and state) again, in the same browser and in another one
    for replaying in (client, app.test_client()):
        response = replaying.get(first.request.full_path, follow_redirects=True)
        assert "登录未完成" in response.get_data(as_text=True)
    assert "李*" not in app.test_client().get("/").get_data(as_text=True)


# Committed: a second app, with an engine of its own, reads the database (SQLite would wait on the
# test transaction's lock).
@pytest.mark.committed
def test_a_provider_down_gets_a_clear_message(app):
    from govservice import create_app

    down = create_app(
        {k: app.config[k] for k in ("TESTING", "INSTANCE_DIR", "SQLALCHEMY_DATABASE_URI", "PUBLIC_URL", "SERVER_NAME")}
        | {"DEV_IDP_URL": "http://127.0.0.1:9"}
    )
    response = down.test_client().get("/auth/login/devidp", follow_redirects=True)
    assert "身份提供方暂时无法访问" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "claims, message",
    [
        ({"sub": "x", "name": "王某"}, "没有提供身份证号码"),
        ({"sub": "x", "name": "王某", "id_number": "110105198802150036"}, "校验码不正确"),
        ({"sub": "x", "name": "王某", "id_number": "11010519880215003"}, "应为18位"),
        ({"sub": "x", "id_number": "110105198802150035"}, "没有提供姓名"),
    ],
)
def test_a_provider_sending_no_or_a_bad_id_number_is_refused_with_nothing_made(ctx, claims, message):
    provider = services.providers()["devidp"]
    before = db.session.execute(db.select(db.func.count(IdentityLink.id))).scalar_one()
    with pytest.raises(services.LoginRefused, match=message):
        services.sign_in(provider, claims)
    assert db.session.execute(db.select(db.func.count(IdentityLink.id))).scalar_one() == before


def _checked(body: str) -> str:
    from stdnum.cn import ric

    return body + ric.calc_check_digit(body + "0")


@pytest.mark.parametrize(
    "raw, message",
    [
        ("110105198802150036", "校验码"),
        ("11010519880215003X", "校验码"),
        ("1101051988021500", "18位"),
        ("11010519881315003A", "格式"),
        (_checked("11010519881315003"), "出生日期"),
        (_checked("11010520991231003"), "出生日期"),
        (_checked("99010519880215003"), "地区代码"),
    ],
)
def test_wrong_id_numbers_get_a_clear_reason(raw, message):
    with pytest.raises(InvalidNumber, match=message):
        normalise_id_number(raw)


def test_a_number_from_a_since_renamed_region_is_accepted():
    # 440306 (宝安区) was assigned in 1992; a number issued under it to someone born earlier is still valid
    number = _checked("44030619800101001")
    assert normalise_id_number(number.lower()) == number


def test_credit_codes_are_checked():
    assert normalise_credit_code("91110105ma01abcd26") == "91110105MA01ABCD26"
    with pytest.raises(InvalidNumber, match="统一社会信用代码"):
        normalise_credit_code("91110105MA01ABCD27")


def test_the_identity_pages_speak_english_when_asked(client, login):
    login(client, "王五")
    client.post("/lang", data={"lang": "en", "next": "/"})
    account = client.get("/auth/me").get_data(as_text=True)
    assert (
        "Sign out everywhere" in account
        and "Linked identity providers" in account
        and "Level 2 for this sign-in" in account
    )
    assert "在所有设备上退出" not in account
    enterprises = client.get("/enterprise/").get_data(as_text=True)
    assert "My enterprises" in enterprises and "Manage agents" in enterprises and "Acting as" in enterprises
