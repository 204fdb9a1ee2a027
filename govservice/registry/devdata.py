"""Development data of the base registries: the demo people and the demo enterprise, and a
deterministic generator for as many more as a test or benchmark wants.

The generator is seeded, so the same call always yields the same people (valid GB 11643 ID
numbers: region, birth date, sequence, check digit) and enterprises (valid GB 32100 codes).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from stdnum.cn import ric, uscc

from .records import LegalPersonRecord, PersonRecord

DEMO_PEOPLE = [
    PersonRecord(
        "110105198802150035", "张三", "男", "汉族", "1988-02-15", "北京市朝阳区示例路1号院2号楼301室", "本市城镇"
    ),
    PersonRecord("440106199507200025", "李娜", "女", "汉族", "1995-07-20", "广东省广州市天河区天河路100号", "外埠城镇"),
    PersonRecord("110108197802151518", "王五", "男", "满族", "1978-02-15", "北京市海淀区示例大街18号", "本市城镇"),
    PersonRecord("110101198808081231", "赵敏", "男", "汉族", "1988-08-08", "北京市东城区示例胡同6号", "本市城镇"),
    PersonRecord("310115199204045563", "刘洋", "女", "汉族", "1992-04-04", "上海市浦东新区示例路55号", "外埠城镇"),
    PersonRecord("110102199003072013", "陈静", "男", "回族", "1990-03-07", "北京市西城区示例街7号", "本市城镇"),
    PersonRecord("110105197001017774", "孙强", "男", "汉族", "1970-01-01", "北京市朝阳区示例北里12号", "本市城镇"),
    PersonRecord("110101199005120019", "周杰", "男", "汉族", "1990-05-12", "北京市东城区示例大街30号", "本市城镇"),
    PersonRecord(
        "110105198503030025", "吴芳", "女", "汉族", "1985-03-03", "北京市朝阳区示例南路15号院1号楼201室", "本市城镇"
    ),
    PersonRecord("110106197508080031", "钱七", "男", "汉族", "1975-08-08", "北京市丰台区示例路66号", "本市农业"),
    PersonRecord("110108199309090052", "黄磊", "男", "汉族", "1993-09-09", "北京市海淀区示例西路9号", "本市城镇"),
    PersonRecord("110101198202200064", "郑华", "女", "汉族", "1982-02-20", "北京市东城区示例北街2号", "本市城镇"),
    PersonRecord("110105198706110041", "马丽", "女", "汉族", "1987-06-11", "北京市朝阳区示例东路21号", "本市城镇"),
    PersonRecord("11010519791123003X", "高峰", "男", "汉族", "1979-11-23", "北京市朝阳区示例中街3号", "本市城镇"),
    # No login: identified at the window; listed by the credit registry (creditdata.LISTED_PERSON).
    PersonRecord("110105198006060039", "冯刚", "男", "汉族", "1980-06-06", "北京市朝阳区示例西里8号", "本市城镇"),
]

#: The demo enterprises; 王五 is their legal representative. The same credit codes as the identity
#: domain's development registry, so acting for a business and pre-filling agree.
DEMO_ENTERPRISE_USCC = "91110105MA01EFGH30"
_WANGWU = ("王五", "110108197802151518")
DEMO_ENTERPRISES = [
    LegalPersonRecord(
        uscc="91110105MA01EFGH30",
        name="北京朝阳示例餐饮有限公司",
        type="有限责任公司（自然人投资或控股）",
        legal_representative=_WANGWU[0],
        legal_representative_id_number=_WANGWU[1],
        address="北京市朝阳区示例路20号1层101",
        registered_capital="100万元",
        established_on="2018-05-10",
        scope="餐饮服务；食品销售；住宿服务；企业管理咨询。（依法须经批准的项目，经相关部门批准后方可开展经营活动）",
    ),
    LegalPersonRecord(
        uscc="91110105MA01ABCD26",
        name="北京示例科技有限公司",
        type="有限责任公司（自然人独资）",
        legal_representative=_WANGWU[0],
        legal_representative_id_number=_WANGWU[1],
        address="北京市朝阳区示例科技园3号楼5层",
        registered_capital="500万元",
        established_on="2015-09-01",
        scope="技术开发、技术咨询、技术服务；软件开发；房屋建筑工程施工总承包。",
    ),
    LegalPersonRecord(
        uscc="91110105MA01JKLM4R",
        name="北京示例贸易有限公司",
        type="有限责任公司（自然人投资或控股）",
        legal_representative=_WANGWU[0],
        legal_representative_id_number=_WANGWU[1],
        address="北京市朝阳区示例东路9号",
        registered_capital="50万元",
        established_on="2012-03-20",
        scope="销售日用品、食品。",
        status="注销",
    ),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国文斌浩宇晨阳欣怡子涵梓轩雨桐思远博文"
REGIONS = {
    "110101": "北京市东城区",
    "110102": "北京市西城区",
    "110105": "北京市朝阳区",
    "110106": "北京市丰台区",
    "110108": "北京市海淀区",
    "130102": "河北省石家庄市长安区",
    "370102": "山东省济南市历下区",
    "410105": "河南省郑州市金水区",
    "510107": "四川省成都市武侯区",
    "440106": "广东省广州市天河区",
}
ETHNICITIES = ["汉族"] * 18 + ["满族", "回族", "蒙古族", "壮族"]
STREETS = ["建国路", "朝阳路", "望京街", "三里屯路", "双井街", "团结湖路", "亮马桥路", "劲松路"]
TRADES = [
    ("餐饮管理有限公司", "餐饮服务；食品销售。"),
    ("酒店管理有限公司", "住宿服务；餐饮服务。"),
    ("美容美发有限公司", "美容服务；理发服务。"),
    ("建设工程有限公司", "施工总承包；专业承包。"),
    ("商贸有限公司", "销售日用品、食品；货物进出口。"),
    ("健身服务有限公司", "体育健身服务；游泳场所服务。"),
]
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def id_number(region: str, birth: date, sequence: int) -> str:
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum wants a placeholder check digit


def organisation_code(serial: int) -> str:
    """A GB 11714 organisation code: eight base-36 characters and their check character."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    body, n = "", serial
    for _ in range(8):
        n, r = divmod(n, 36)
        body = alphabet[r] + body
    check = 11 - sum(alphabet.index(c) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2))) % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(region: str, serial: int) -> str:
    """A unified social credit code of a company (登记管理部门 9, 类别 1) registered in `region`."""
    org = organisation_code(serial)
    org = "".join(c if c in USCC_ALPHABET else "0" for c in org)  # the USCC alphabet has no I, O, S, V, Z
    number = "91" + region + org
    return number + uscc.calc_check_digit(number)


def generate_people(count: int, seed: int = 11643) -> list[PersonRecord]:
    rng = random.Random(seed)
    people, seen = [], set()
    while len(people) < count:
        region = rng.choice(sorted(REGIONS))
        birth = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 55))
        sequence = rng.randrange(0, 1000)
        number = id_number(region, birth, sequence)
        if number in seen:
            continue
        seen.add(number)
        sex = "男" if sequence % 2 else "女"
        local = region.startswith("11")
        people.append(
            PersonRecord(
                id_number=number,
                name=rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
                sex=sex,
                ethnicity=rng.choice(ETHNICITIES),
                birth_date=birth.isoformat(),
                household_address=f"{REGIONS[region]}{rng.choice(STREETS)}{rng.randrange(1, 300)}号",
                household_type=("本市" if local else "外埠") + rng.choice(("城镇", "城镇", "城镇", "农业")),
            )
        )
    return people


def generate_enterprises(count: int, representatives: list[PersonRecord], seed: int = 32100) -> list[LegalPersonRecord]:
    rng = random.Random(seed)
    enterprises = []
    for serial in range(1, count + 1):
        trade, scope = rng.choice(TRADES)
        rep = rng.choice(representatives)
        founded = date(2000, 1, 1) + timedelta(days=rng.randrange(0, 365 * 25))
        enterprises.append(
            LegalPersonRecord(
                uscc=credit_code("110105", 10_000_000 + serial),
                name=f"北京{rng.choice(GIVEN)}{rng.choice(GIVEN)}{trade}",
                type="有限责任公司（自然人投资或控股）",
                legal_representative=rep.name,
                legal_representative_id_number=rep.id_number,
                address=f"北京市朝阳区{rng.choice(STREETS)}{rng.randrange(1, 300)}号",
                registered_capital=f"{rng.choice((10, 50, 100, 500, 1000))}万元",
                established_on=founded.isoformat(),
                scope=scope,
            )
        )
    return enterprises
