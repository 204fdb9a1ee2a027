"""What the base registries answer: a person's population record, an enterprise's legal-person
record. Plain data, the same whether the answer came from the development registry in this
process or from another agency's HTTP service."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class PersonRecord:
    """人口基础信息: one person as the population registry knows them."""

    id_number: str
    name: str
    sex: str                  # 男 | 女
    ethnicity: str            # 民族, e.g. 汉族
    birth_date: str           # ISO date
    household_address: str    # 常住户口所在地住址
    household_type: str       # 户口性质: 本市城镇 | 本市农业 | 外埠城镇 | 外埠农业

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "PersonRecord":
        return cls(**{f.name: str(data[f.name]) for f in fields(cls)})


@dataclass(frozen=True)
class LegalPersonRecord:
    """法人基础信息: one market entity as the legal-person registry knows it."""

    uscc: str                           # 统一社会信用代码
    name: str
    type: str                           # 市场主体类型
    legal_representative: str           # 法定代表人姓名
    legal_representative_id_number: str
    address: str                        # 住所
    registered_capital: str             # 注册资本, e.g. "100万元"
    established_on: str                 # ISO date
    scope: str                          # 经营范围
    status: str = "存续"                 # 登记状态: 存续 | 注销 | 吊销

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "LegalPersonRecord":
        return cls(**{f.name: str(data[f.name]) for f in fields(cls) if f.name in data})
