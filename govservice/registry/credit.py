"""The credit registry (信用信息共享平台) behind the same small interface as the population and
legal-person registries: `DevCreditRegistry` answers from the development data in this process,
`HttpCreditRegistry` asks another agency's service over HTTP (`CREDIT_REGISTRY_URL`).

A credit record lists the joint-punishment lists (失信联合惩戒对象名单) a person or an enterprise
is on, each with the authority that listed it, the legal basis and the measures; a subject on no
list has a record with no entries.

HTTP contract (JSON, UTF-8; `Authorization: Bearer <CREDIT_REGISTRY_TOKEN>` when set; the purpose
in `X-Purpose`, the case in `X-Case`, both percent-encoded, as for the base registries):

    GET {base}/credit/persons/{id_number}      200 CreditRecord   (entries [] when on no list)
    GET {base}/credit/enterprises/{uscc}       200 CreditRecord

Anything else (timeout, refused connection, 404, 5xx, a body that is not a record) is
`RegistryUnavailable`: the window shows "信用核查暂不可用" and applies the item's fallback rule.
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import quote

from flask import Flask, current_app

from . import creditdata
from .backends import HttpRegistry, RegistryUnavailable, configured
from .records import CreditEntry, CreditRecord

__all__ = ["CreditEntry", "CreditRecord", "CreditRegistry", "DevCreditRegistry", "HttpCreditRegistry"]


class CreditRegistry(Protocol):
    source: str  # "dev" | "http", as for the base registries

    def credit(self, kind: str, subject: str, *, purpose: str, case: str | None = None) -> CreditRecord:
        """`kind` person (an ID number) or enterprise (a unified social credit code)."""


class DevCreditRegistry:
    """The development listings (`creditdata`); every other subject is on no list."""

    source = "dev"
    SOURCE_NAME = "全国信用信息共享平台（开发数据）"

    def credit(self, kind, subject, *, purpose, case=None):
        return CreditRecord(subject, kind, self.SOURCE_NAME, creditdata.LISTINGS.get(subject, ()))


class HttpCreditRegistry(HttpRegistry):
    """Another agency's credit service over HTTP, with the base registries' short timeout."""

    PATHS = {"person": "persons", "enterprise": "enterprises"}

    def credit(self, kind, subject, *, purpose, case=None):
        data = self._get(f"/credit/{self.PATHS[kind]}/{quote(subject)}", purpose=purpose, case=case)
        if data is None:  # a credit service answers every subject; a 404 is a wrong address
            raise RegistryUnavailable("http", "status 404")
        try:
            record = CreditRecord.from_dict(data)
        except (KeyError, TypeError, AttributeError, ValueError):
            raise RegistryUnavailable("http", "malformed credit record") from None
        if record.subject != subject or record.kind != kind:  # an answer about someone else
            raise RegistryUnavailable("http", "answer for another subject")
        return record


def init_app(app: Flask) -> None:
    """The credit registry of this app: CREDIT_REGISTRY_URL's, else the development one."""
    app.extensions["credit_registry"] = configured(app, "CREDIT_REGISTRY", HttpCreditRegistry, DevCreditRegistry)


def backend() -> CreditRegistry:
    return current_app.extensions["credit_registry"]
