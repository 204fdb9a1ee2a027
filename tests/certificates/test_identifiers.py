"""GB/T 36904 electronic licence identifiers."""

from __future__ import annotations

import pytest
from stdnum.cn import uscc
from stdnum.iso7064 import mod_37_36

from govservice.certificates.identifiers import (
    ROOT,
    SERIAL_WIDTH,
    Identifier,
    InvalidIdentifier,
    make_identifier,
    parse_identifier,
)

ISSUER = "11430000006122244L"  # a valid USCC
TYPE = "11100000000013338W011"


def test_fixture_uscc_is_valid():
    assert uscc.is_valid(ISSUER)


def test_make_and_parse_round_trip():
    ident = make_identifier(TYPE, ISSUER, 42, version=3)
    assert ident.startswith(ROOT + ".")
    parsed = parse_identifier(ident)
    assert parsed == Identifier(TYPE, ISSUER, "0000000042", 3, ident[-1])
    assert str(parsed) == ident
    assert make_identifier(parsed.type_code, parsed.issuer_uscc, parsed.serial, parsed.version) == ident


def test_layout_and_check_character_computed_independently():
    ident = make_identifier("XSCJGJ001", ISSUER, 1)
    serial = "1".zfill(SERIAL_WIDTH)
    body = f"XSCJGJ001{ISSUER}{serial}001"
    check = mod_37_36.calc_check_digit(body)
    assert ident == f"1.2.156.3005.2.XSCJGJ001.{ISSUER}.{serial}.001.{check}"
    # the whole string, dots removed after the root, plus the check, validates as MOD 37,36
    assert mod_37_36.is_valid(body + check)


def test_known_public_example_parses():
    """An identifier published by a national system (MOHURD type code 011)."""
    text = "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U"
    parsed = parse_identifier(text)
    assert parsed.type_code == "11100000000013338W011"
    assert parsed.issuer_uscc == "11430000006122244L"
    assert parsed.serial == "20230000403"
    assert parsed.version == 1
    assert parsed.check == "U"
    assert str(parsed) == text


def test_serial_padding_and_string_serials():
    assert make_identifier(TYPE, ISSUER, "7").split(".")[7] == "0000000007"
    assert make_identifier(TYPE, ISSUER, 7) == make_identifier(TYPE, ISSUER, "0000000007")
    assert make_identifier(TYPE, ISSUER, 10**SERIAL_WIDTH - 1).split(".")[7] == "9" * SERIAL_WIDTH


def test_parse_normalises_case_and_whitespace():
    ident = make_identifier("XGAJ001", ISSUER, 5)
    assert str(parse_identifier(f"  {ident.lower()}\n")) == ident


def test_check_can_be_digit_or_letter():
    checks = {make_identifier(TYPE, ISSUER, n)[-1] for n in range(200)}
    assert any(c.isdigit() for c in checks) and any(c.isalpha() for c in checks)


# ------------------------------------------------------------------ rejections


def good() -> str:
    return make_identifier(TYPE, ISSUER, 123)


@pytest.mark.parametrize(
    "text, message",
    [
        ("1.2.156.3005.1." + good()[len(ROOT) + 1 :], "start with"),
        ("2.156.3005.2." + good()[len(ROOT) + 1 :], "start with"),
        ("", "start with"),
        (ROOT, "start with"),
        (ROOT + f".{TYPE}.{ISSUER}.0000000123.001", "5 parts"),
        (ROOT + f".{TYPE}.{ISSUER}.0000000123.001.X.Y", "5 parts"),
        (ROOT + f".A.B{TYPE[2:]}.{ISSUER}.0000000123.001.X", "5 parts"),  # dot inside the type code
        (ROOT + f".{TYPE}.11430000006122244X.0000000123.001.X", "unified social credit code"),
        (ROOT + f".{TYPE}.1143000000612224.0000000123.001.X", "unified social credit code"),
        (ROOT + f".{TYPE}.{ISSUER}.0000000123.01.X", "3 digits"),
        (ROOT + f".{TYPE}.{ISSUER}.0000000123.0001.X", "3 digits"),
        (ROOT + f".{TYPE}.{ISSUER}.0000000123.V01.X", "3 digits"),
        (ROOT + f".{TYPE}.{ISSUER}..001.X", "serial"),
        (ROOT + f".{TYPE}.{ISSUER}.00-01.001.X", "serial"),
        (ROOT + f"..{ISSUER}.0000000123.001.X", "type code"),
        (ROOT + f".T_1.{ISSUER}.0000000123.001.X", "type code"),
        (ROOT + f".{TYPE}.{ISSUER}.0000000123.001.", "check"),
        (ROOT + f".{TYPE}.{ISSUER}.0000000123.001.XY", "check"),
    ],
)
def test_parse_rejects(text, message):
    with pytest.raises(InvalidIdentifier) as e:
        parse_identifier(text)
    assert message in str(e.value)


def test_parse_rejects_wrong_check_character():
    ident = good()
    body, check = ident[:-1], ident[-1]
    for wrong in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if wrong == check:
            continue
        with pytest.raises(InvalidIdentifier) as e:
            parse_identifier(body + wrong)
        assert "check character" in str(e.value)


def test_parse_detects_changed_digit():
    ident = good()
    changed = ident.replace(".0000000123.", ".0000000124.")
    with pytest.raises(InvalidIdentifier):
        parse_identifier(changed)


def test_parse_rejects_non_string():
    with pytest.raises(InvalidIdentifier):
        parse_identifier(None)  # type: ignore[arg-type]


def test_invalid_identifier_is_value_error():
    assert issubclass(InvalidIdentifier, ValueError)


@pytest.mark.parametrize(
    "args, message",
    [
        (("A.B", ISSUER, 1), "must not contain '.'"),
        (("", ISSUER, 1), "type code"),
        (("YY_ZZ", ISSUER, 1), "type code"),
        ((TYPE, "11430000006122244X", 1), "unified social credit code"),
        ((TYPE, "not-a-uscc", 1), "unified social credit code"),
        ((TYPE, ISSUER, -1), "digits"),
        ((TYPE, ISSUER, 10**SERIAL_WIDTH), "digits"),
        ((TYPE, ISSUER, "12A"), "decimal digits"),
        ((TYPE, ISSUER, ""), "decimal digits"),
        ((TYPE, ISSUER, 1.5), "serial"),
        ((TYPE, ISSUER, True), "serial"),
    ],
)
def test_make_rejects(args, message):
    with pytest.raises(InvalidIdentifier) as e:
        make_identifier(*args)
    assert message in str(e.value)


@pytest.mark.parametrize("version", [0, 1000, -1, "1", 1.0, True])
def test_make_rejects_bad_version(version):
    with pytest.raises(InvalidIdentifier) as e:
        make_identifier(TYPE, ISSUER, 1, version)
    assert "version" in str(e.value)


def test_make_accepts_lower_case_inputs():
    assert make_identifier(TYPE.lower(), ISSUER.lower(), 1) == make_identifier(TYPE, ISSUER, 1)
