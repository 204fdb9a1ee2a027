"""ID numbers and credit codes: canonical forms (the lookup hash depends on them), and whatever
comes in, nothing but InvalidNumber goes out."""

from __future__ import annotations

import random
import string

import pytest
from stdnum.cn import ric

from govservice.identity.idnumbers import InvalidNumber, normalise_credit_code, normalise_id_number

NUMBER = "110105198802150035"


@pytest.mark.parametrize(
    "raw",
    [
        "110105198802150035",
        " 110105198802150035 ",
        "110105 19880215 0035",
        "110105-19880215-0035",
        "１１０１０５１９８８０２１５００３５",
    ],
)
def test_the_ways_people_type_a_number_reach_one_canonical_form(raw):
    assert normalise_id_number(raw) == NUMBER


def test_a_lower_case_x_is_the_check_character_x():
    body = "11010519491231002"
    number = body + ric.calc_check_digit(body + "0")
    assert number.endswith("X") and normalise_id_number(number.lower()) == number


@pytest.mark.parametrize(
    "raw, message",
    [
        (None, "18位"),
        ("", "18位"),
        (12345, "18位"),
        ("110105880215003", "18位"),  # a first-generation 15-digit number
        ("٣" * 18, "格式"),
        ("11010519880215003\x00", "格式"),
        ("1101051988021500３X", "校验码"),
        ("x" * 1_000_000, "18位"),
    ],
)
def test_odd_input_gets_a_clear_reason(raw, message):
    with pytest.raises(InvalidNumber, match=message):
        normalise_id_number(raw)


def test_a_birth_date_before_the_id_system_is_refused():
    body = "11010518791231001"
    with pytest.raises(InvalidNumber, match="出生日期"):
        normalise_id_number(body + ric.calc_check_digit(body + "0"))


def test_nothing_but_invalid_number_ever_comes_out():
    rng = random.Random(20261123)
    alphabet = string.digits + "Xx -ABCDMAHJ" + "１２Ｘ٣Ⅹ\x00é中\u200b"
    for _ in range(5000):
        raw = "".join(rng.choice(alphabet) for _ in range(rng.choice([0, 15, 17, 18, 19, 30])))
        for normalise in (normalise_id_number, normalise_credit_code):
            try:
                result = normalise(raw)
            except InvalidNumber:
                continue
            assert len(result) == 18 and result.isascii()


@pytest.mark.parametrize(
    "raw", ["9111 0105 MA01 ABCD 26", "91110105ma01abcd26", "９１１１０１０５ＭＡ０１ＡＢＣＤ２６"]
)
def test_credit_codes_reach_one_canonical_form(raw):
    assert normalise_credit_code(raw) == "91110105MA01ABCD26"


@pytest.mark.parametrize("raw", ["91110105MA01ABCD27", "91110105MA01ABCDI6", "91110105MA01ABCD2", None, 42])
def test_wrong_credit_codes_are_refused(raw):
    with pytest.raises(InvalidNumber, match="统一社会信用代码"):
        normalise_credit_code(raw)


def test_the_message_reads_outside_an_application_too():
    with pytest.raises(InvalidNumber) as refused:
        normalise_id_number("1")
    assert str(refused.value) == "身份证号码应为18位。"
