"""Citizen ID numbers (GB 11643) and unified social credit codes (GB 32100), via python-stdnum.

python-stdnum checks the region code against the year the county code was in use. But a
number keeps the region code it was issued under for life, and codes are reassigned and
abolished; a valid number from a renamed region must not be refused. So the region is
checked only for its province (the first two digits), and only the checksum, the format and
the birth date are decisive.

Whatever it is given (None, a number, full-width digits, digits of other scripts, control
characters, megabytes), a function here returns the canonical ASCII form or raises
`InvalidNumber` with a message in Chinese, nothing else: the canonical form is what the
lookup hash is computed from, so "one number, one person" depends on it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date

from flask import has_app_context
from flask_babel import lazy_gettext as _l
from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.util import clean

ID_NUMBER = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)
CREDIT_CODE = re.compile(r"[0-9A-HJ-NP-RTUW-Y]{18}", re.ASCII)
#: Longer input is not a number pasted with separators; it is refused before any work on it.
MAX_INPUT = 64


class InvalidNumber(ValueError):
    """A number that cannot be used; `message` (lazy, Chinese) says why."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        if has_app_context():
            return str(self.message)
        return str(getattr(self.message, "_args", (self.message,))[0])  # the untranslated msgid


def _compact(raw) -> str:
    """Full-width forms folded to ASCII (NFKC), spaces and hyphens removed, upper case."""
    text = raw if isinstance(raw, str) else ("" if raw is None else str(raw))
    if len(text) > MAX_INPUT:
        return text
    try:
        return clean(unicodedata.normalize("NFKC", text), " -").strip().upper()
    except StdnumError:
        return text


def normalise_id_number(raw: str | None) -> str:
    """Return the canonical 18-character number or raise InvalidNumber."""
    number = _compact(raw)
    if len(number) != 18:
        raise InvalidNumber(_l("身份证号码应为18位。"))
    if not ID_NUMBER.fullmatch(number):
        raise InvalidNumber(_l("身份证号码格式不正确：前17位应为数字，最后一位为数字或X。"))
    try:
        if number[17] != ric.calc_check_digit(number):
            raise InvalidNumber(_l("身份证号码校验码不正确，请核对后重新输入。"))
        birth = ric.get_birth_date(number)
    except (StdnumError, ValueError, KeyError, IndexError) as exc:
        if isinstance(exc, InvalidNumber):
            raise
        raise InvalidNumber(_l("身份证号码中的出生日期无效。")) from None
    if birth > date.today() or birth.year < 1880:
        raise InvalidNumber(_l("身份证号码中的出生日期无效。"))
    if not _names_a_province(number[:6]):
        raise InvalidNumber(_l("身份证号码中的地区代码无效。"))
    return number


@functools.lru_cache(maxsize=4096)  # a region code, not the number: ~3,500 counties in all
def _names_a_province(region: str) -> bool:
    """Whether python-stdnum's table of region codes places `region` in a province (its look-up
    walks the table's tree each time: most of the CPU of checking a number)."""
    try:
        return "province" in numdb.get("cn/loc").info(region)[0][1]
    except (LookupError, ValueError):
        return False


def normalise_credit_code(raw: str | None) -> str:
    """Return the canonical unified social credit code or raise InvalidNumber."""
    code = _compact(raw)
    if len(code) != 18 or not CREDIT_CODE.fullmatch(code):
        raise InvalidNumber(_l("统一社会信用代码不正确，请核对后重新输入。"))
    try:
        return uscc.validate(code)
    except (StdnumError, ValueError, KeyError, IndexError):
        raise InvalidNumber(_l("统一社会信用代码不正确，请核对后重新输入。")) from None
