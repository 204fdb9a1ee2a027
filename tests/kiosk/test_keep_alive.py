"""The page's keep-alive, with CSRF protection on as in a browser: someone typing a long form for
more than a minute is not signed out by the server when they submit it."""

from __future__ import annotations

import re

import pytest

from .conftest import page, register


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def _token(text):
    return re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)


def test_the_keep_alive_carries_the_page_token_and_keeps_the_person_signed_in(app, clock):
    _device_id, code = register(app)
    terminal = app.test_client()
    assert "Set-Cookie" not in terminal.get("/kiosk/enroll").headers  # no session for a browser that is no terminal
    assert terminal.post("/kiosk/enroll", data={"code": code}).status_code == 302  # the code is the proof
    welcome = page(terminal.get("/kiosk/"))
    terminal.post("/kiosk/card", data={"card": "zhangsan", "csrf_token": _token(welcome)})
    menu = page(terminal.get("/kiosk/"))
    token = re.search(r'data-csrf="([^"]+)"', menu).group(1)
    assert terminal.post("/kiosk/alive").status_code == 400  # no token: refused
    for _ in range(4):  # typing for two minutes, the page calling every 30 seconds
        clock.advance(seconds=30)
        assert terminal.post("/kiosk/alive", headers={"X-CSRFToken": token}).status_code == 204
    assert "张*，您好" in page(terminal.get("/kiosk/"))
    out = terminal.post("/kiosk/sign-out", data={"reason": "idle"})  # no token needed to end a session
    assert out.status_code == 302 and terminal.post("/kiosk/alive", headers={"X-CSRFToken": token}).status_code in (
        400,
        401,
    )
