"""Certificate types loaded from licenses/*.toml."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from govservice.certificates.identifiers import make_identifier, parse_identifier
from govservice.certificates.types import (
    CertificateType,
    CertificateTypeError,
    Validity,
    load_type,
    load_types,
)

LICENSES = Path(__file__).resolve().parents[2] / "licenses"

GOOD = """\
code = "demo"
name = "示例证"
name_en = "Demo Certificate"
licence_type_code = "XDEMO001"
issuer_department = "scjgj"
holder_kind = "enterprise"
validity = { years = 3 }

[[fields]]
name = "credit_code"
label = "统一社会信用代码"
label_en = "Unified Social Credit Code"
masked = false

[[fields]]
name = "legal_representative"
label = "法定代表人"
masked = true

[layout]
title = "示例证"
footer = "footer"
rows = ["credit_code", "legal_representative"]
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ shipped types


def test_shipped_types_load():
    types = load_types(LICENSES)
    assert set(types) >= {"yyzz", "spjyxkz", "ggcswsxkz", "jzz"}
    for code, ctype in types.items():
        assert isinstance(ctype, CertificateType)
        assert ctype.code == code
        assert ctype.layout.rows and set(ctype.layout.rows) <= set(ctype.field_names)
        # every licence type code can be used in an identifier
        ident = make_identifier(ctype.licence_type_code, "11430000006122244L", 1)
        assert parse_identifier(ident).type_code == ctype.licence_type_code


def test_shipped_type_details():
    types = load_types(LICENSES)
    yyzz, food, hygiene, permit = types["yyzz"], types["spjyxkz"], types["ggcswsxkz"], types["jzz"]

    assert yyzz.name == "营业执照" and yyzz.holder_kind == "person" and yyzz.issuer_department == "scjgj"
    assert yyzz.validity.is_long_term
    assert list(yyzz.field_names) == [
        "credit_code",
        "business_name",
        "business_type",
        "operator_name",
        "operator_id_number",
        "composition",
        "address",
        "scope",
        "registered_on",
    ]
    assert yyzz.masked_fields == {"operator_name", "operator_id_number"}
    assert yyzz.field("credit_code").label == "统一社会信用代码"

    assert food.name == "食品经营许可证" and food.holder_kind == "enterprise" and food.issuer_department == "scjgj"
    assert food.validity == Validity(years=5)

    assert hygiene.name == "公共场所卫生许可证" and hygiene.holder_kind == "enterprise"
    assert hygiene.issuer_department == "wsjkw" and hygiene.validity == Validity(years=4)

    assert permit.name == "居住证" and permit.holder_kind == "person" and permit.issuer_department == "gaj"
    assert permit.validity == Validity(years=1)
    assert {"name", "id_number"} <= permit.masked_fields

    codes = [t.licence_type_code for t in types.values()]
    assert len(set(codes)) == len(codes)


def test_types_are_frozen():
    ctype = load_types(LICENSES)["yyzz"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctype.name = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctype.fields[0].masked = True  # type: ignore[misc]
    hash(ctype)


def test_validity_expiry():
    assert Validity().expires(date(2024, 1, 1)) is None
    assert Validity(years=5).expires(date(2024, 2, 29)) == date(2029, 2, 28)
    assert Validity(years=4).expires(date(2024, 2, 29)) == date(2028, 2, 29)
    issued = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
    assert Validity(days=90).expires(issued) == datetime(2025, 5, 30, 8, 30, tzinfo=UTC)
    assert Validity().describe() == "长期" and Validity(years=5).describe() == "5年"


# ------------------------------------------------------------------ loading rules


def test_good_file_loads(tmp_path):
    write(tmp_path, "demo.toml", GOOD)
    write(tmp_path, "notes.txt", "ignored")
    types = load_types(tmp_path)
    assert list(types) == ["demo"]
    demo = types["demo"]
    assert demo.fields[1].masked and demo.fields[0].label_en == "Unified Social Credit Code"
    assert demo.fields[1].label_en == "" and demo.fields[0].required
    assert demo.layout.subtitle is None
    assert demo.source and demo.source.endswith("demo.toml")
    assert load_type(tmp_path / "demo.toml") == demo


@pytest.mark.parametrize(
    "validity, expected",
    [
        (None, Validity()),
        ("{ years = 0 }", Validity()),
        ("{ days = 90 }", Validity(days=90)),
        ("{ years = 0, days = 30 }", Validity(days=30)),
    ],
)
def test_validity_forms(tmp_path, validity, expected):
    text = GOOD.replace("validity = { years = 3 }\n", "" if validity is None else f"validity = {validity}\n")
    write(tmp_path, "demo.toml", text)
    assert load_types(tmp_path)["demo"].validity == expected


def expect_error(tmp_path: Path, text: str, field: str | None, *, name: str = "broken.toml") -> CertificateTypeError:
    write(tmp_path, name, text)
    with pytest.raises(CertificateTypeError) as e:
        load_types(tmp_path)
    err = e.value
    assert name in str(err)
    assert err.path and err.path.endswith(name)
    if field is not None:
        assert field in str(err), str(err)
        assert err.field is not None and field in err.field
    return err


@pytest.mark.parametrize("key", ["code", "name", "name_en", "licence_type_code", "issuer_department", "holder_kind"])
def test_missing_required_key(tmp_path, key):
    lines = [line for line in GOOD.splitlines() if not line.startswith(f"{key} =")]
    err = expect_error(tmp_path, "\n".join(lines) + "\n", key)
    assert "missing" in str(err)


def test_missing_fields_and_layout(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    no_fields = GOOD[: GOOD.index("[[fields]]")] + GOOD[GOOD.index("[layout]") :]
    expect_error(tmp_path / "a", no_fields, "fields")
    no_layout = GOOD[: GOOD.index("[layout]")]
    expect_error(tmp_path / "b", no_layout, "layout")


def test_unknown_holder_kind(tmp_path):
    err = expect_error(tmp_path, GOOD.replace('holder_kind = "enterprise"', 'holder_kind = "company"'), "holder_kind")
    assert "company" in str(err)


def test_duplicate_code(tmp_path):
    write(tmp_path, "a.toml", GOOD)
    err = expect_error(
        tmp_path,
        GOOD.replace('licence_type_code = "XDEMO001"', 'licence_type_code = "XDEMO002"'),
        "code",
        name="b.toml",
    )
    assert "duplicate" in str(err) and "a.toml" in str(err)


def test_field_without_name(tmp_path):
    text = GOOD.replace('name = "legal_representative"\n', "")
    err = expect_error(tmp_path, text, "fields[1]")
    assert "name" in err.field


def test_field_without_label(tmp_path):
    text = GOOD.replace('label = "法定代表人"\n', "")
    err = expect_error(tmp_path, text, "fields[1]")
    assert "label" in err.field and "legal_representative" in str(err)


def test_field_with_empty_label(tmp_path):
    expect_error(tmp_path, GOOD.replace('label = "法定代表人"', 'label = "  "'), "label")


def test_duplicate_field_name(tmp_path):
    text = GOOD.replace('name = "legal_representative"', 'name = "credit_code"').replace(
        'rows = ["credit_code", "legal_representative"]', 'rows = ["credit_code"]'
    )
    err = expect_error(tmp_path, text, "fields[1]")
    assert "duplicate" in str(err)


def test_bad_masked_flag(tmp_path):
    expect_error(tmp_path, GOOD.replace("masked = true", 'masked = "yes"'), "masked")


def test_unknown_key_in_field(tmp_path):
    expect_error(tmp_path, GOOD.replace("masked = true", "maskd = true"), "maskd")


def test_unknown_top_level_key(tmp_path):
    expect_error(
        tmp_path, GOOD.replace('name_en = "Demo Certificate"', 'name_en = "Demo Certificate"\ncolour = "red"'), "colour"
    )


@pytest.mark.parametrize(
    "validity",
    [
        "{ years = -1 }",
        '{ years = "3" }',
        "{ years = 1.5 }",
        "{ years = true }",
        "{ months = 6 }",
        "{ years = 1, days = 10 }",
        "{}",
        "3",
        '"long-term"',
        "{ years = 1000 }",
    ],
)
def test_bad_validity(tmp_path, validity):
    expect_error(tmp_path, GOOD.replace("validity = { years = 3 }", f"validity = {validity}"), "validity")


@pytest.mark.parametrize("code", ["YY", "1abc", "a-b", "", "a.b"])
def test_bad_code(tmp_path, code):
    expect_error(tmp_path, GOOD.replace('code = "demo"', f'code = "{code}"'), "code")


@pytest.mark.parametrize("code", ["X.DEMO", "xdemo", "X DEMO", ""])
def test_bad_licence_type_code(tmp_path, code):
    expect_error(
        tmp_path, GOOD.replace('licence_type_code = "XDEMO001"', f'licence_type_code = "{code}"'), "licence_type_code"
    )


def test_layout_row_not_a_field(tmp_path):
    err = expect_error(
        tmp_path,
        GOOD.replace('rows = ["credit_code", "legal_representative"]', 'rows = ["credit_code", "nickname"]'),
        "layout.rows",
    )
    assert "nickname" in str(err)


def test_layout_orientation_and_issuer_label(tmp_path):
    write(
        tmp_path,
        "demo.toml",
        GOOD.replace('title = "示例证"\n', 'title = "示例证"\norientation = "landscape"\nissuer_label = "登记机关"\n'),
    )
    layout = load_types(tmp_path)["demo"].layout
    assert (layout.orientation, layout.issuer_label) == ("landscape", "登记机关")
    write(tmp_path, "demo.toml", GOOD)
    assert load_types(tmp_path)["demo"].layout.orientation == "portrait"  # the default
    err = expect_error(
        tmp_path,
        GOOD.replace('title = "示例证"\n', 'title = "示例证"\norientation = "sideways"\n'),
        "layout.orientation",
    )
    assert "portrait or landscape" in str(err)


def test_layout_missing_title(tmp_path):
    expect_error(tmp_path, GOOD.replace('title = "示例证"\n', ""), "layout.title")


def test_layout_missing_rows(tmp_path):
    expect_error(tmp_path, GOOD.replace('rows = ["credit_code", "legal_representative"]\n', ""), "layout.rows")


def test_invalid_toml_names_file(tmp_path):
    expect_error(tmp_path, GOOD + "\nthis is = = not toml\n", None)


def test_missing_directory(tmp_path):
    with pytest.raises(CertificateTypeError) as e:
        load_types(tmp_path / "nope")
    assert "nope" in str(e.value)


def test_error_is_value_error():
    assert issubclass(CertificateTypeError, ValueError)
