"""Levels of assurance: the provider's acr maps to levels 1-3; an item that needs more than this
sign-in's level asks the person to step up (re-authenticate with acr_values) before applying."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from govservice.catalog.models import ServiceItem
from govservice.core.extensions import db

from ..conftest import idp_choose
from .helpers import audit_entries, page

ITEM = "scjgj-gtgsh-sldj"


def _require(app, level: int, code: str = ITEM) -> None:
    with app.app_context():
        item = db.session.execute(
            db.select(ServiceItem).where(ServiceItem.code == code, ServiceItem.is_current.is_(True))
        ).scalar_one()
        item.level_of_assurance = level
        db.session.commit()


def _step_up(client, response, name: str):
    """From the redirect to the step-up page, through the provider, back to the platform."""
    assert response.status_code == 302 and "/auth/stepup?level=" in response.headers["Location"]
    stepup = client.get(response.headers["Location"])
    assert stepup.status_code == 200
    link = next(part.split('"')[0] for part in page(stepup).split('href="')[1:] if part.startswith("/auth/login/"))
    start = client.get(link.replace("&amp;", "&"))
    assert start.status_code == 302
    return start, idp_choose(client, start.headers["Location"], name)


def test_a_level_3_item_asks_a_level_2_sign_in_to_step_up(app, client, login):
    _require(app, 3)
    login(client, "张三")
    before = client.get_cookie("session").value
    response = client.get(f"/apply/{ITEM}")
    assert response.headers["Location"].endswith(f"/auth/stepup?level=3&next=/apply/{ITEM}")
    body = page(client.get(response.headers["Location"]))
    assert "该事项要求3级认证，您本次登录的认证等级为2级" in body and "通过 开发用身份提供方 重新认证" in body

    start, back = _step_up(client, response, "张三")
    sent = {k: v[0] for k, v in parse_qs(urlsplit(start.headers["Location"]).query).items()}
    assert (sent["acr_values"], sent["prompt"]) == ("3", "login")
    assert back.headers["Location"].endswith(f"/apply/{ITEM}")
    form = client.get(f"/apply/{ITEM}")
    assert form.status_code == 200 and "认证等级已提升至3级。" in page(form)
    assert client.get_cookie("session").value != before  # re-authenticated: a new session id
    assert audit_entries(app, "identity.step_up")[-1][2]["level"] == 3
    assert "本次登录为3级" in page(client.get("/auth/me"))


def test_a_person_who_cannot_reach_the_level_is_told_and_cannot_apply(app, client, login):
    _require(app, 2)
    login(client, "周杰")  # self-registered: level 1 at most
    response = client.get(f"/apply/{ITEM}")
    _, back = _step_up(client, response, "周杰")
    assert "/auth/stepup?level=2" in back.headers["Location"]
    assert "本次认证为1级，未达到所需的2级" in page(client.get(back.headers["Location"]))
    assert client.get(f"/apply/{ITEM}").status_code == 302


def test_stepping_up_as_someone_else_is_refused_and_changes_nothing(app, client, login):
    _require(app, 3)
    login(client, "张三")
    _, back = _step_up(client, client.get(f"/apply/{ITEM}"), "李娜")
    assert "身份证号码与当前账号不一致" in page(client.get(back.headers["Location"]))
    account = page(client.get("/auth/me"))
    assert "张*" in account and "本次登录为2级" in account
    refusal = audit_entries(app, "identity.sign_in_refused")[-1][2]
    assert (refusal["reason"], refusal["purpose"]) == ("other_person", "step_up")


def test_a_level_3_sign_in_applies_at_once(app, client, login):
    _require(app, 3)
    login(client, "李娜")
    assert client.get(f"/apply/{ITEM}").status_code == 200


@pytest.mark.parametrize("level", [0, 1, 4, None])
def test_only_levels_2_and_3_can_be_asked_for(client, login, level):
    login(client, "张三")
    assert client.get(f"/auth/stepup?level={level}").status_code == 404
