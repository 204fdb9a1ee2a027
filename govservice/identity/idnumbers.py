"""Citizen ID numbers (GB 11643) and unified social credit codes (GB 32100), via python-stdnum.

python-stdnum checks the region code against the year the county code was in use. But a
number keeps the region code it was issued under for life, and codes are reassigned and
abolished; a valid number from a renamed region must not be refused. So the region is
checked only for its province (the first two digits), and only the checksum, the format and
the birth date are decisive. Every failure is a `ValidationError` with a message in Chinese.
"""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError


class InvalidNumber(ValueError):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def normalise_id_number(raw: str | None) -> str:
    """Return the canonical 18-character number or raise InvalidNumber."""
    number = ric.compact(raw or "").upper()
    if len(number) != 18:
        raise InvalidNumber(_l("身份证号码应为18位。"))
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise InvalidNumber(_l("身份证号码格式不正确：前17位应为数字，最后一位为数字或X。"))
    try:
        if number[17] != ric.calc_check_digit(number):
            raise InvalidNumber(_l("身份证号码校验码不正确，请核对后重新输入。"))
        birth = ric.get_birth_date(number)
    except StdnumError:
        raise InvalidNumber(_l("身份证号码中的出生日期无效。")) from None
    if birth > date.today():
        raise InvalidNumber(_l("身份证号码中的出生日期无效。"))
    if "province" not in numdb.get("cn/loc").info(number[:6])[0][1]:
        raise InvalidNumber(_l("身份证号码中的地区代码无效。"))
    return number


def normalise_credit_code(raw: str | None) -> str:
    """Return the canonical unified social credit code or raise InvalidNumber."""
    code = uscc.compact(raw or "").upper()
    try:
        return uscc.validate(code)
    except StdnumError:
        raise InvalidNumber(_l("统一社会信用代码不正确，请核对后重新输入。")) from None
