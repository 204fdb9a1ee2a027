"""Demo certificates: issued (signed, with QR tokens) into the demo people's wallets.

张三 (citizen) holds a 就业创业证; 李娜 (from Guangzhou, living here) a 居住证; the demo
restaurant whose legal representative is 王五 (the identity demo's ``Enterprise``, e.g.
北京朝阳示例餐饮有限公司) a 食品经营许可证 and a 公共场所卫生许可证, seen by 王五 and the
enterprise's agents. If no ``Enterprise`` row exists for 王五 when the demo is loaded, those two
are held by 王五 as a person and name the registry's demo enterprise in their content.
Running it twice issues nothing new.
"""

from __future__ import annotations

from sqlalchemy import select

from ..core.extensions import db
from ..identity.models import Enterprise, Person
from ..identity.services import person_for
from ..registry.devdata import DEMO_ENTERPRISE_USCC
from . import samples
from .models import Certificate
from .services import issue

# The demo enterprise of the development legal-person registry.
ENTERPRISE_NAME = "北京朝阳示例餐饮有限公司"
ENTERPRISE_USCC = DEMO_ENTERPRISE_USCC
ENTERPRISE_ADDRESS = "北京市朝阳区示例路20号1层101"


def _person(id_number: str, name: str) -> Person:
    """The demo person, made as a first sign-in would make them."""
    return person_for(id_number, name)


def _enterprise_of(representative: Person) -> Enterprise | None:
    """The demo enterprise 王五 represents: a restaurant if there is one (food and hygiene licences)."""
    represented = list(
        db.session.execute(
            select(Enterprise)
            .where(Enterprise.legal_representative_id == representative.id, Enterprise.status == "active")
            .order_by(Enterprise.id)
        ).scalars()
    )
    return next((e for e in represented if "餐饮" in e.name), represented[0] if represented else None)


def _specs():
    zhang = _person("110105198802150035", "张三")
    li = _person("440106199507200025", "李娜")
    wang = _person("110108197802151518", "王五")
    enterprise = _enterprise_of(wang)
    name = enterprise.name if enterprise else ENTERPRISE_NAME
    uscc = enterprise.uscc if enterprise else ENTERPRISE_USCC
    return [
        (
            zhang,
            None,
            "jycyz",
            {
                "name": "张三",
                "sex": "男",
                "id_number": "110105198802150035",
                "household_address": "北京市朝阳区示例路1号院2号楼301室",
                "employment_status": "自主创业（个体经营）",
                "registered_on": "2026-03-02",
                "certificate_number": "1101050026000123",
            },
        ),
        (
            li,
            None,
            "jzz",
            samples.SAMPLES["jzz"],
        ),
        (
            wang,
            enterprise,
            "spjyxkz",
            {
                "business_name": name,
                "credit_code": uscc,
                "legal_representative": "王五",
                "residence": ENTERPRISE_ADDRESS,
                "premises": ENTERPRISE_ADDRESS,
                "business_format": "餐饮服务经营者（中型餐馆）",
                "business_items": "热食类食品制售；冷食类食品制售；预包装食品销售（含冷藏冷冻食品）",
                "licence_number": "JY21101050098765",
                "supervising_authority": "朝阳区市场监督管理局示例所",
                "complaint_hotline": "12315",
            },
        ),
        (
            wang,
            enterprise,
            "ggcswsxkz",
            {
                "unit_name": name,
                "credit_code": uscc,
                "legal_representative": "王五",
                "address": ENTERPRISE_ADDRESS,
                "licensed_items": "住宿场所（宾馆）",
                "floor_area": "860平方米",
                "licence_number": "京朝卫公证字〔2026〕第000321号",
            },
        ),
    ]


def load() -> list[str]:
    done = []
    for holder, enterprise, type_code, data in _specs():
        exists = db.session.execute(
            select(Certificate.id).where(
                Certificate.holder_id == holder.id, Certificate.type_code == type_code, Certificate.case_id.is_(None)
            )
        ).first()
        if exists:
            continue
        certificate = issue(type_code, holder, data, enterprise=enterprise)
        done.append(
            f"certificate: {certificate.identifier} ({type_code}) for "
            f"{enterprise.name if enterprise else holder.masked_name}"
        )
    db.session.commit()
    return done
