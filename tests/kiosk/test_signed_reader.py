"""The production reader: the terminal's reader agent signs what it read (ES256) with the key the
administrator registered for the terminal; the platform takes a reading only for this terminal,
with the nonce of this sign-in screen, and fresh."""

from __future__ import annotations

import json
import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jws
from joserfc.jwk import ECKey

from .conftest import enrolled_client, page, register


@pytest.fixture
def app_config():
    return {"KIOSK_CARD_READER": "signed"}


def _key():
    private = ec.generate_private_key(ec.SECP256R1())
    pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, pem


def _reading(private, device_id, nonce, *, iat, name="张三", number="110105198802150035", valid_until="2036-01-01"):
    claims = {
        "aud": f"kiosk:{device_id}",
        "nonce": nonce,
        "iat": iat,
        "id_number": number,
        "name": name,
        "valid_until": valid_until,
    }
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return jws.serialize_compact({"alg": "ES256", "typ": "kiosk-card+jwt"}, json.dumps(claims), ECKey.import_key(pem))


def _nonce(terminal) -> str:
    welcome = page(terminal.get("/kiosk/"))
    assert "开发用读卡器" not in welcome  # no demo cards in production
    return re.search(r'data-nonce="([^"]+)"', welcome).group(1)


def test_a_signed_reading_for_this_terminal_and_screen_signs_in_once(app, clock):
    private, pem = _key()
    device_id, code = register(app, reader_key_pem=pem)
    terminal = enrolled_client(app, code)
    now = int(clock.now().timestamp())
    reading = _reading(private, device_id, _nonce(terminal), iat=now)
    terminal.post("/kiosk/card", data={"reading": reading})
    assert "张*，您好" in page(terminal.get("/kiosk/"))
    terminal.post("/kiosk/sign-out")
    terminal.post("/kiosk/card", data={"reading": reading})  # the same reading again: replayed
    welcome = page(terminal.get("/kiosk/"))
    assert "读卡结果已失效" in welcome and "您好" not in welcome


def test_readings_that_are_forged_stale_or_for_another_terminal_are_refused(app, clock):
    private, pem = _key()
    device_id, code = register(app, reader_key_pem=pem)
    terminal = enrolled_client(app, code)
    now = int(clock.now().timestamp())
    other, _ = _key()
    cases = [  # each made for the screen's nonce of the moment (n), as the reader agent would
        (lambda n: _reading(other, device_id, n, iat=now), "读卡结果未通过校验"),  # not this reader's key
        (lambda n: _reading(private, device_id + 1, n, iat=now), "读卡结果已失效"),  # another terminal
        (lambda n: _reading(private, device_id, n, iat=now - 600), "读卡结果已失效"),  # ten minutes old
        (lambda n: _reading(private, device_id, "made-up", iat=now), "读卡结果已失效"),  # not this screen's
        (lambda n: _reading(private, device_id, n, iat=now, name="李四"), "证件信息与人口基础信息库不一致"),
        (lambda n: "", "未读到身份证"),
    ]
    for make, message in cases:
        terminal.post("/kiosk/card", data={"reading": make(_nonce(terminal))})
        welcome = page(terminal.get("/kiosk/"))
        assert message in welcome and "您好" not in welcome, message


def test_a_demo_card_is_refused_by_the_signed_reader(app):
    _device_id, code = register(app)
    terminal = enrolled_client(app, code)
    terminal.post("/kiosk/card", data={"card": "zhangsan"})
    assert "未读到身份证" in page(terminal.get("/kiosk/"))
