"""Licence-number formats live in the type files (`[number]`), checked when the types load."""

from pathlib import Path

import pytest

from govservice.certificates.types import CertificateTypeError, load_type

LICENSES = Path(__file__).resolve().parents[2] / "licenses"


def _with_number(tmp_path, number_table: str) -> Path:
    text = (LICENSES / "spjyxkz.toml").read_text(encoding="utf-8")
    start = text.index("[number]")
    end = text.index("[[fields]]")
    path = tmp_path / "spjyxkz.toml"
    path.write_text(text[:start] + number_table + "\n" + text[end:], encoding="utf-8")
    return path


def test_the_food_licence_number_is_written_as_its_type_file_says():
    ctype = load_type(LICENSES / "spjyxkz.toml")
    number = ctype.licence_number("110105", 42, 2026)
    assert number.startswith("JY1110105000042") and len(number) == 16


def test_a_type_without_a_number_table_gets_the_code_region_serial_form(tmp_path):
    ctype = load_type(_with_number(tmp_path, ""))
    assert ctype.licence_number("110105", 7, 2026) == "SPJYXKZ11010500000007"


@pytest.mark.parametrize(
    ("table", "where"),
    [
        ('[number]\nformat = "JY{body}{check}"\ncheck = "luhn"', "number.check"),
        ('[number]\nformat = "JY{county}"', "number.format"),
        ('[number]\nformat = "JY{serial}"\nprefix = "x"', "number.prefix"),
    ],
)
def test_a_bad_number_table_is_refused_with_where(tmp_path, table, where):
    with pytest.raises(CertificateTypeError, match=where.replace(".", r"\.")):
        load_type(_with_number(tmp_path, table))
