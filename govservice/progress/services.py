"""The 查询码 of a case and the public look-up it opens.

The code is not stored: it is an HMAC of the case number under the platform's progress key
(`PROGRESS_CODE_KEY`, generated into instance/keys on first run), cut to 8 characters of
Crockford's base32 (no I, L, O, U: nothing to misread on paper). 40 bits against a look-up that
is rate-limited per address and per case number; rotating the key voids every printed code.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from flask import Flask, current_app

from ..cases import progress as case_progress
from ..cases import services as cases
from ..cases.statemachine import action_label
from ..cases.statemachine import label as state_label
from ..core.keys import instance_secret

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
CODE_LENGTH = 8
NUMBER = re.compile(r"^\d{20}$")
#: What a person may type for a character that is not in the alphabet.
FOLD = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})
#: Events shown publicly: what happened, never who did it or what they wrote.
PUBLIC_ACTIONS = (
    "submit",
    "accept",
    "request_supplement",
    "return_for_supplement",
    "resubmit",
    "not_accept",
    "withdraw",
    "claim",
    "approve",
    "deny",
    "complete",
    "hand_over",
)


def init_app(app: Flask) -> None:
    app.config.setdefault(
        "PROGRESS_CODE_KEY", instance_secret(app.config["INSTANCE_DIR"], "progress_code_key", "PROGRESS_CODE_KEY")
    )
    app.add_template_global(query_code, "progress_query_code")


def query_code(number: str) -> str:
    """The 查询码 of case `number`, e.g. "7K3M9QXA"."""
    digest = hmac.new(current_app.config["PROGRESS_CODE_KEY"].encode(), number.encode(), hashlib.sha256).digest()
    value = int.from_bytes(digest[:5], "big")  # 40 bits = 8 characters of 5 bits
    return "".join(ALPHABET[(value >> shift) & 31] for shift in range(35, -1, -5))


def normalise_code(raw: str) -> str:
    return re.sub(r"[\s-]", "", raw or "").upper().translate(FOLD)


@dataclass
class PublicProgress:
    """What the public page may show of a case."""

    number: str
    item_name: str
    department: str
    state: str
    progress: case_progress.Progress
    events: list  # (datetime, what happened)
    time_limit_days: int


def look_up(raw_number: str, raw_code: str) -> PublicProgress | None:
    """The case's public progress when the number and the code match; None otherwise (the same
    answer for an unknown number and a wrong code, so the page tells nothing about which)."""
    number, code = (raw_number or "").strip(), normalise_code(raw_code)
    if not NUMBER.match(number) or len(code) != CODE_LENGTH:
        return None
    if not hmac.compare_digest(query_code(number), code):
        return None
    case = cases.find_case(number)
    if case is None:
        return None
    events = [(e.at, action_label(e.action)) for e in case.events if e.action in PUBLIC_ACTIONS]
    return PublicProgress(
        number=case.number,
        item_name=case.item.name,
        department=case.department.name if case.department_id else "",
        state=state_label(case.state),
        progress=case_progress.of(case),
        events=events,
        time_limit_days=case.item.time_limit_days,
    )
