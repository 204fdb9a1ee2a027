"""What the base registries answer: a person's population record, an enterprise's legal-person
record. Plain data, the same whether the answer came from the development registry in this
process or from another agency's HTTP service."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


@dataclass(frozen=True)
class PersonRecord:
    """人口基础信息: one person as the population registry knows them."""

    id_number: str
    name: str
    sex: str  # 男 | 女
    ethnicity: str  # 民族, e.g. 汉族
    birth_date: str  # ISO date
    household_address: str  # 常住户口所在地住址
    household_type: str  # 户口性质: 本市城镇 | 本市农业 | 外埠城镇 | 外埠农业

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> PersonRecord:
        return cls(**{f.name: str(data[f.name]) for f in fields(cls)})


@dataclass(frozen=True)
class LegalPersonRecord:
    """法人基础信息: one market entity as the legal-person registry knows it."""

    uscc: str  # 统一社会信用代码
    name: str
    type: str  # 市场主体类型
    legal_representative: str  # 法定代表人姓名
    legal_representative_id_number: str
    address: str  # 住所
    registered_capital: str  # 注册资本, e.g. "100万元"
    established_on: str  # ISO date
    scope: str  # 经营范围
    status: str = "存续"  # 登记状态: 存续 | 注销 | 吊销

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> LegalPersonRecord:
        return cls(**{f.name: str(data[f.name]) for f in fields(cls) if f.name in data})


@dataclass(frozen=True)
class CreditEntry:
    """One listing: which list, who listed the subject, on what legal basis, since when."""

    list_name: str  # e.g. 失信被执行人名单
    authority: str  # 认定单位, e.g. 北京市朝阳区人民法院
    basis: str  # 法律依据
    reference: str  # 文号或案号
    listed_on: str  # ISO date
    measures: str  # 联合惩戒措施

    @classmethod
    def from_dict(cls, data: dict) -> CreditEntry:
        return cls(**{f.name: str(data[f.name]) for f in fields(cls)})


@dataclass(frozen=True)
class CreditRecord:
    """信用记录: what the credit registry knows of one subject (a person or an enterprise)."""

    subject: str  # the ID number or the unified social credit code asked about
    kind: str  # person | enterprise
    source: str  # the registry that answered, shown to the clerk
    entries: tuple[CreditEntry, ...] = field(default_factory=tuple)

    @property
    def listed(self) -> bool:
        return bool(self.entries)

    def as_dict(self) -> dict:
        return {
            "subject": self.subject,
            "kind": self.kind,
            "source": self.source,
            "entries": [asdict(e) for e in self.entries],
        }

    @classmethod
    def from_dict(cls, data: dict) -> CreditRecord:
        if data.get("kind") not in ("person", "enterprise") or not isinstance(data.get("entries"), list):
            raise KeyError("kind or entries")
        return cls(
            str(data["subject"]),
            data["kind"],
            str(data["source"]),
            tuple(CreditEntry.from_dict(e) for e in data["entries"]),
        )
