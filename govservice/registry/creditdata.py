"""Development data of the credit registry: a few listed persons and enterprises.

The lists and their legal bases are the real ones a window meets; the subjects are the demo
registry's (冯刚 is a person of the population registry without a login, so the window
identifies him at the counter; 北京示例科技有限公司 is 王五's company, for which 钱七 is an agent).
Every other subject is on no list.
"""

from __future__ import annotations

from .records import CreditEntry

#: 冯刚, in the population registry (devdata.DEMO_PEOPLE), listed as a judgment defaulter.
LISTED_PERSON = "110105198006060039"
#: 北京示例科技有限公司 (devdata.DEMO_ENTERPRISES), listed for a major tax violation.
LISTED_ENTERPRISE = "91110105MA01ABCD26"

DEFAULTER_BASIS = (
    "《最高人民法院关于公布失信被执行人名单信息的若干规定》（法释〔2017〕7号）第一条；"
    "《关于对失信被执行人实施联合惩戒的合作备忘录》（发改财金〔2016〕141号）"
)
TAX_BASIS = (
    "《重大税收违法失信主体信息公布管理办法》（国家税务总局令第54号）第六条；"
    "《关于对重大税收违法案件当事人实施联合惩戒措施的合作备忘录》（发改财金〔2016〕2798号）"
)


LISTINGS: dict[str, tuple[CreditEntry, ...]] = {
    LISTED_PERSON: (
        CreditEntry(
            list_name="失信被执行人名单",
            authority="北京市朝阳区人民法院",
            basis=DEFAULTER_BASIS,
            reference="（2025）京0105执12345号",
            listed_on="2025-09-18",
            measures="限制担任市场主体的法定代表人、负责人；限制从事特定行业经营；限制高消费",
        ),
    ),
    LISTED_ENTERPRISE: (
        CreditEntry(
            list_name="重大税收违法失信主体名单",
            authority="国家税务总局北京市朝阳区税务局",
            basis=TAX_BASIS,
            reference="京朝税稽罚〔2025〕88号",
            listed_on="2025-06-30",
            measures="限制取得政府供应土地；从严审核行政许可审批项目；限制参与政府采购、工程招投标",
        ),
    ),
}
