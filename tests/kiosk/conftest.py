"""A registered, enrolled terminal and the people who use it."""

from __future__ import annotations

import re

import pytest

from govservice.identity.demo import person
from govservice.kiosk import services as kiosk

HALL = "cy-zwfwzx"


def register(app, name="一层大厅 1号机", reader_key_pem=""):
    """An administrator registers a terminal: (device id, one-time code)."""
    from sqlalchemy import select

    from govservice.core.extensions import db
    from govservice.identity.models import ServiceHall

    with app.app_context():
        hall = db.session.execute(select(ServiceHall).where(ServiceHall.code == HALL)).scalar_one()
        device, code = kiosk.register(person("郑华"), name, hall.id, reader_key_pem)
        return device.id, code


def enrolled_client(app, code):
    terminal = app.test_client()
    response = terminal.post("/kiosk/enroll", data={"code": code})
    assert response.status_code == 302, response.get_data(as_text=True)
    return terminal


@pytest.fixture
def terminal(app):
    _device_id, code = register(app)
    return enrolled_client(app, code)


def card(terminal, key="zhangsan"):
    """Lay a demo card on the development reader."""
    return terminal.post("/kiosk/card", data={"card": key})


def page(response) -> str:
    return response.get_data(as_text=True)


def flashes(text: str) -> list[str]:
    return re.findall(r'class="k-flash [a-z]+" role="[a-z]+">([^<]*)<', text)
