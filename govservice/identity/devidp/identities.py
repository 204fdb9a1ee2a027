"""The fictitious people the development IdP can sign in as.

Subjects are stable strings because the platform's demo data links to them; the ID numbers
carry valid GB 11643 check digits so the platform's own validation accepts them. `acr` is the
level of assurance the IdP asserts for the person (1 = self-registered, 3 = strongest), which
lets developers exercise the platform's level-of-assurance rules.
"""
from __future__ import annotations

from authlib.oauth2.rfc6749.util import scope_to_list

IDENTITIES: list[dict] = [
    {"sub": "dev-zhangsan", "name": "张三", "id_number": "110105198802150035",
     "phone_number": "13800000001", "acr": "2", "description": "市民"},
    {"sub": "dev-lina", "name": "李娜", "id_number": "440106199507200025",
     "phone_number": "13800000002", "acr": "3", "description": "市民"},
    {"sub": "dev-wangwu", "name": "王五", "id_number": "110108197802151518",
     "phone_number": "13800000003", "acr": "2", "description": "企业法定代表人"},
    {"sub": "dev-zhaomin", "name": "赵敏", "id_number": "110101198808081231",
     "phone_number": "13800000004", "acr": "2", "description": "综合窗口工作人员"},
    {"sub": "dev-liuyang", "name": "刘洋", "id_number": "310115199204045563",
     "phone_number": "13800000005", "acr": "2", "description": "审批人员（市场监督管理局）"},
    {"sub": "dev-chenjing", "name": "陈静", "id_number": "110102199003072013",
     "phone_number": "13800000006", "acr": "2", "description": "审批人员（卫生健康委员会）"},
    {"sub": "dev-sunqiang", "name": "孙强", "id_number": "110105197001017774",
     "phone_number": "13800000007", "acr": "2", "description": "督办人员"},
]

#: Which claims each scope releases, as a real provider would; `sub` and `acr` always go.
#: The ID number travels with `profile` because, for a government platform, the legal
#: identity is the profile.
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": ("name", "id_number"),
    "phone": ("phone_number",),
}

#: Every claim the IdP can put in an ID token or a userinfo response (for discovery).
CLAIMS_SUPPORTED = [
    "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "at_hash",
    "name", "id_number", "phone_number",
]


def find_identity(subject: str | None) -> dict | None:
    """Return the identity with this subject, or None for an unknown or missing one."""
    return next((identity for identity in IDENTITIES if identity["sub"] == subject), None)


def identity_claims(identity: dict, scope: str | None) -> dict:
    """The claims `scope` releases for `identity`; shared by the ID token and userinfo."""
    claims = {"sub": identity["sub"], "acr": identity["acr"]}
    for granted in scope_to_list(scope) or []:
        for claim in SCOPE_CLAIMS.get(granted, ()):
            claims[claim] = identity[claim]
    return claims


def mask_id_number(id_number: str) -> str:
    """Show only the region and the last four characters, as Chinese services usually do."""
    return f"{id_number[:6]}{'*' * (len(id_number) - 10)}{id_number[-4:]}"
