"""Building certificates and partner clients for tests, through the same services the web uses."""

from __future__ import annotations

import base64

from govservice.certificates import services
from govservice.core.extensions import db
from govservice.identity.models import Person
from govservice.identity.services import person_for
from govservice.partners import services as partners

PEOPLE = {
    "张三": "110105198802150035",
    "李娜": "440106199507200025",
    "王五": "110108197802151518",
    "钱七": "110106197508080031",
    "赵敏": "110101198808081231",
    "刘洋": "310115199204045563",
    "陈静": "110102199003072013",
}

DATA = {
    "yyzz": {
        "credit_code": "92110105MA00000017",
        "business_name": "北京市朝阳区张三便利店",
        "business_type": "个体工商户",
        "operator_name": "张三",
        "operator_id_number": "110105198802150035",
        "composition": "个人经营",
        "address": "北京市朝阳区示例路8号",
        "scope": "日用百货零售",
        "registered_on": "2026-11-23",
    },
    "spjyxkz": {
        "business_name": "北京朝阳示例餐饮有限公司",
        "credit_code": "91110105MA01EFGH30",
        "legal_representative": "王五",
        "residence": "北京市朝阳区示例路20号1层101",
        "premises": "北京市朝阳区示例路20号1层101",
        "business_format": "餐饮服务经营者",
        "business_items": "热食类食品制售",
        "licence_number": "JY21101050098765",
    },
    "jzz": {
        "name": "李娜",
        "sex": "女",
        "ethnicity": "汉族",
        "birth_date": "1995-07-20",
        "id_number": "440106199507200025",
        "household_address": "广东省广州市天河区天河路100号",
        "residence_address": "北京市朝阳区示例东路6号院3号楼502室",
    },
}
HOLDERS = {"yyzz": "张三", "spjyxkz": "王五", "jzz": "李娜"}


def person(name: str) -> Person:
    found = person_for(PEOPLE[name], name)
    db.session.commit()
    return found


def issue(type_code: str = "yyzz", holder: str | None = None, **changes):
    data = dict(DATA[type_code], **changes)
    return services.issue(type_code, person(holder or HOLDERS[type_code]), data)


def register_partner(
    scopes=("certificates:verify", "certificates:read"), organisation="卫生健康委员会", name="公共场所卫生许可审批系统"
):
    return partners.register_client(name, organisation, scopes)


def bearer(client, client_id: str, secret: str, **form) -> str:
    """An access token from the token endpoint (HTTP Basic)."""
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    answer = client.post(
        "/oauth/token", data={"grant_type": "client_credentials", **form}, headers={"Authorization": f"Basic {basic}"}
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["access_token"]


def call(client, token: str, path: str, body=None, method="post"):
    return getattr(client, method)(path, json=body, headers={"Authorization": f"Bearer {token}"})
