"""The base registries behind one small interface.

The population registry (人口基础信息库) and the legal-person registry (法人基础信息库) belong
to other agencies; the platform only asks them questions. `Registry` is what the rest of the
code needs; `DevRegistry` answers from the development data in this process (what `make run`
and the tests use) and `HttpRegistry` asks a registry service over HTTP (`REGISTRY_URL`), the
way a data-sharing exchange (共享交换平台) is reached in production.

HTTP contract (JSON, UTF-8; `Authorization: Bearer <REGISTRY_TOKEN>` when a token is set; the
purpose of every query travels in `X-Purpose`, percent-encoded, and the case in `X-Case`):

    GET {base}/population/{id_number}                  200 PersonRecord | 404
    GET {base}/legal-persons/{uscc}                    200 LegalPersonRecord | 404
    GET {base}/legal-persons?representative={id}       200 {"items": [LegalPersonRecord, ...]}

Anything else (a timeout, a refused connection, a 5xx, a body that is not the record) is
`RegistryUnavailable`: the caller carries on without the data.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Protocol
from urllib.parse import quote

import requests
from flask import current_app
from flask_babel import lazy_gettext as _l

from . import devdata
from .records import LegalPersonRecord, PersonRecord

log = logging.getLogger(__name__)


class RegistryUnavailable(Exception):
    """The registry did not answer usably; `message` says so in Chinese."""

    def __init__(self, registry: str, reason: str):
        super().__init__(f"{registry}: {reason}")
        self.registry, self.reason = registry, reason
        self.message = _l("基础信息库暂时无法访问，请稍后再试或自行填写。")


class Registry(Protocol):
    """The one interface of the base registries: every backend implements it, and every caller
    (the applicants' pre-fill, the window, identity's enterprises through `legal_persons`) asks
    the app's backend (`backend()`). Each question carries its purpose (and case), as an
    operator of the registry logs them."""

    source: str  # shown in the audit entry: "dev" | "http"

    def person(self, id_number: str, *, purpose: str, case: str | None = None) -> PersonRecord | None: ...

    def legal_person(self, uscc: str, *, purpose: str, case: str | None = None) -> LegalPersonRecord | None: ...

    def represented_by(self, id_number: str, *, purpose: str, case: str | None = None) -> list[LegalPersonRecord]: ...


@lru_cache(maxsize=4)
def _dev_tables(generated: int) -> tuple[dict, dict]:
    people = devdata.DEMO_PEOPLE + devdata.generate_people(generated)
    enterprises = devdata.DEMO_ENTERPRISES + devdata.generate_enterprises(
        max(1, generated // 10), people[len(devdata.DEMO_PEOPLE) :] or people
    )
    return {p.id_number: p for p in people}, {e.uscc: e for e in enterprises}


class DevRegistry:
    """The demo people and enterprise, plus `generated` deterministic others."""

    source = "dev"

    def __init__(self, generated: int = 1000):
        self.people, self.enterprises = _dev_tables(generated)

    def person(self, id_number, *, purpose, case=None):
        return self.people.get(id_number)

    def legal_person(self, uscc, *, purpose, case=None):
        return self.enterprises.get(uscc)

    def represented_by(self, id_number, *, purpose, case=None):
        return sorted(
            (e for e in self.enterprises.values() if e.legal_representative_id_number == id_number),
            key=lambda e: e.uscc,
        )


class HttpRegistry:
    """Another agency's registry service, reached over HTTP with a short timeout."""

    source = "http"

    def __init__(
        self, base_url: str, *, token: str = "", timeout: float = 3.0, session: requests.Session | None = None
    ):
        self.base_url, self.token, self.timeout = base_url.rstrip("/"), token, timeout
        self.http = session or requests.Session()

    def _get(self, path: str, *, purpose: str, case: str | None, params: dict | None = None):
        headers = {"Accept": "application/json", "X-Purpose": quote(purpose)}
        if case:
            headers["X-Case"] = quote(case)
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = self.http.get(self.base_url + path, params=params, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            log.warning("registry %s unreachable: %s", self.base_url, exc)
            raise RegistryUnavailable("http", type(exc).__name__) from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            log.warning("registry %s answered %s for %s", self.base_url, response.status_code, path)
            raise RegistryUnavailable("http", f"status {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise RegistryUnavailable("http", "not JSON") from None

    def _record(self, cls, data):
        try:
            return cls.from_dict(data)
        except (KeyError, TypeError, AttributeError):
            raise RegistryUnavailable("http", "malformed record") from None

    def person(self, id_number, *, purpose, case=None):
        data = self._get(f"/population/{quote(id_number)}", purpose=purpose, case=case)
        return None if data is None else self._record(PersonRecord, data)

    def legal_person(self, uscc, *, purpose, case=None):
        data = self._get(f"/legal-persons/{quote(uscc)}", purpose=purpose, case=case)
        return None if data is None else self._record(LegalPersonRecord, data)

    def represented_by(self, id_number, *, purpose, case=None):
        data = self._get("/legal-persons", purpose=purpose, case=case, params={"representative": id_number})
        if data is None:
            return []
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise RegistryUnavailable("http", "malformed list")
        return [self._record(LegalPersonRecord, item) for item in data["items"]]


def configured(app, prefix: str, http, development):
    """A registry from the settings named ``prefix``: over HTTP at ``<prefix>_URL`` (with
    ``<prefix>_TOKEN`` and REGISTRY_TIMEOUT) when it is set, else ``development()``."""
    url = app.config.get(f"{prefix}_URL", "")
    if url:
        return http(url, token=app.config.get(f"{prefix}_TOKEN", ""), timeout=app.config.get("REGISTRY_TIMEOUT", 3.0))
    return development()


def backend() -> Registry:
    """This app's registry, chosen at start (`registry.services.init_app`: REGISTRY_URL's, else
    the development one)."""
    return current_app.extensions["registry"]
