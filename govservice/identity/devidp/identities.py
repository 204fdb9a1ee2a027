"""The fictitious people the development IdP can sign in as.

The ID numbers carry valid GB 11643 check digits (and the gender digit matches the person), so
the platform's own validation accepts them. `acr` is the level of assurance of an ordinary
login (1 = self-registered, 2 = verified, 3 = strongest, e.g. face recognition) and `max_acr`
the highest level the person can reach when a relying party asks for more with `acr_values`
(step-up); a self-registered person cannot reach level 3 at all.

`staff` lists the person's roles as `role[:department[:hall]]` (the `roles` claim, released
under the `roles` scope); the platform's demo data maps the same roles for providers without a
role claim. Several people exist per level, and the enterprise people match the development
legal-person registry (`govservice/registry/devdata.py`): 王五 represents 北京示例科技有限公司
and has authorised 钱七 as its agent (经办人).

Subjects are per instance: `dev-<key>` by default, another prefix for a second instance that
plays "another provider" asserting the same people under different subjects.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.util import scope_to_list

DEFAULT_SUBJECT_PREFIX = "dev-"

IDENTITIES: list[dict] = [
    {
        "key": "zhangsan",
        "name": "张三",
        "id_number": "110105198802150035",
        "phone_number": "13800000001",
        "acr": "2",
        "max_acr": "3",
        "description": "市民",
    },
    {
        "key": "lina",
        "name": "李娜",
        "id_number": "440106199507200025",
        "phone_number": "13800000002",
        "acr": "3",
        "max_acr": "3",
        "description": "市民",
    },
    {
        "key": "zhoujie",
        "name": "周杰",
        "id_number": "110101199005120019",
        "phone_number": "13800000011",
        "acr": "1",
        "max_acr": "1",
        "description": "市民（自助注册）",
    },
    {
        "key": "wufang",
        "name": "吴芳",
        "id_number": "110105198503030025",
        "phone_number": "13800000012",
        "acr": "1",
        "max_acr": "2",
        "description": "市民（自助注册）",
    },
    {
        "key": "wangwu",
        "name": "王五",
        "id_number": "110108197802151518",
        "phone_number": "13800000003",
        "acr": "2",
        "max_acr": "3",
        "description": "企业法定代表人（北京示例科技有限公司等）",
    },
    {
        "key": "qianqi",
        "name": "钱七",
        "id_number": "110106197508080031",
        "phone_number": "13800000013",
        "acr": "2",
        "max_acr": "3",
        "description": "企业经办人（北京示例科技有限公司）",
    },
    {
        "key": "zhaomin",
        "name": "赵敏",
        "id_number": "110101198808081231",
        "phone_number": "13800000004",
        "acr": "2",
        "max_acr": "3",
        "description": "综合窗口工作人员",
        "staff": ["clerk::cy-zwfwzx"],
    },
    {
        "key": "liuyang",
        "name": "刘洋",
        "id_number": "310115199204045563",
        "phone_number": "13800000005",
        "acr": "2",
        "max_acr": "3",
        "description": "审批人员（市场监督管理局）",
        "staff": ["officer:scjgj"],
    },
    {
        "key": "chenjing",
        "name": "陈静",
        "id_number": "110102199003072013",
        "phone_number": "13800000006",
        "acr": "2",
        "max_acr": "3",
        "description": "审批人员（卫生健康委员会）",
        "staff": ["officer:wsjkw"],
    },
    {
        "key": "huanglei",
        "name": "黄磊",
        "id_number": "110108199309090052",
        "phone_number": "13800000014",
        "acr": "2",
        "max_acr": "3",
        "description": "审批人员（公安分局）",
        "staff": ["officer:gaj"],
    },
    {
        "key": "mali",
        "name": "马丽",
        "id_number": "110105198706110041",
        "phone_number": "13800000016",
        "acr": "2",
        "max_acr": "3",
        "description": "审批人员（人力资源和社会保障局）",
        "staff": ["officer:rsj"],
    },
    {
        "key": "gaofeng",
        "name": "高峰",
        "id_number": "11010519791123003X",
        "phone_number": "13800000017",
        "acr": "2",
        "max_acr": "3",
        "description": "审批人员（住房和城乡建设委员会）",
        "staff": ["officer:zjw"],
    },
    {
        "key": "sunqiang",
        "name": "孙强",
        "id_number": "110105197001017774",
        "phone_number": "13800000007",
        "acr": "2",
        "max_acr": "3",
        "description": "督办人员",
        "staff": ["supervisor"],
    },
    {
        "key": "zhenghua",
        "name": "郑华",
        "id_number": "110101198202200064",
        "phone_number": "13800000015",
        "acr": "3",
        "max_acr": "3",
        "description": "系统管理员",
        "staff": ["admin"],
    },
]
for _identity in IDENTITIES:
    # The subject at the default instance, which the platform's demo data and tests refer to.
    _identity["sub"] = DEFAULT_SUBJECT_PREFIX + _identity["key"]

#: Which claims each scope releases, as a real provider would; `sub` and `acr` always go.
#: The ID number travels with `profile` because, for a government platform, the legal
#: identity is the profile.
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": ("name", "id_number"),
    "phone": ("phone_number",),
    "roles": ("roles",),
}

#: Every claim the IdP can put in an ID token or a userinfo response (for discovery).
CLAIMS_SUPPORTED = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "at_hash",
    "name",
    "id_number",
    "phone_number",
    "roles",
]


class Directory:
    """The demo people as one IdP instance names them: its subjects, its claims."""

    def __init__(self, subject_prefix: str = DEFAULT_SUBJECT_PREFIX):
        self.subject_prefix = subject_prefix

    def subject(self, identity: dict) -> str:
        return self.subject_prefix + identity["key"]

    def find(self, subject: str | None) -> dict | None:
        """The identity with this subject at this instance, or None for an unknown or missing one."""
        return next((i for i in IDENTITIES if subject and self.subject(i) == subject), None)

    def claims(self, identity: dict, scope: str | None, acr: str) -> dict:
        """The claims `scope` releases for `identity`; shared by the ID token and userinfo."""
        claims = {"sub": self.subject(identity), "acr": acr}
        for granted in scope_to_list(scope) or []:
            for claim in SCOPE_CLAIMS.get(granted, ()):
                if claim == "roles":
                    claims["roles"] = list(identity.get("staff", []))
                else:
                    claims[claim] = identity[claim]
        return claims


def achieved_acr(identity: dict, acr_values: str | None) -> str:
    """The level this login reaches: the ordinary one, or a requested higher one the person can reach.

    `acr_values` lists acceptable levels (OpenID Connect Core 3.1.2.1); a level above the
    person's `max_acr` cannot be met, and the login then carries the ordinary level, leaving
    the relying party to refuse it, as real providers do.
    """
    reachable = [int(v) for v in (acr_values or "").split() if v.isdigit() and int(v) <= int(identity["max_acr"])]
    return str(max([int(identity["acr"]), *reachable]))


def mask_id_number(id_number: str) -> str:
    """Show only the region and the last four characters, as Chinese services usually do."""
    return f"{id_number[:6]}{'*' * (len(id_number) - 10)}{id_number[-4:]}"
