"""What cases ask of the certificates domain, behind one small interface: the certificates sit
above cases (they react to approvals and complete cases through signals), so they register
their implementation at start (`certificates.services.init_app`) instead of cases importing them.

* the applicant's certificates that may replace a material (免提交), and the check of those
  offered, at acceptance;
* the certificates a case issued, shown on its page;
* a licence found by its number, and its status, for the items that change or cancel it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from flask import current_app


class CaseCertificates(Protocol):
    def usable_certificates(self, holder, type_codes: Iterable[str] | None = None) -> list: ...

    def check_held_materials(
        self, identifiers_given: Iterable[str], applicant, *, case_id: int | None = None, case_number: str | None = None
    ) -> list: ...

    def refusal_message(self, checks: Iterable) -> str | None: ...

    def for_case(self, case) -> list: ...

    def find_by_number(self, type_code: str, number: str) -> list: ...

    def status_of(self, certificate) -> str: ...

    def status_label(self, status: str) -> str: ...

    def certificate_type(self, code: str): ...


def certificates() -> CaseCertificates:
    """The certificates domain, as registered in this app."""
    return current_app.extensions["case_certificates"]
