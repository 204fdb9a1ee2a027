"""Electronic licence identifiers (电子证照标识) after GB/T 36904-2018.

Format (six dot-separated groups after the root)::

    1.2.156.3005.2 . <licence type code> . <issuer USCC> . <serial> . <version> . <check>
    e.g. 1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U

- ``1.2.156.3005.2``  the electronic licence root OID (电子证照根代码);
- licence type code  (证照类型代码) the national catalogue code of the licence type,
  upper-case letters and digits, no dots (national codes are the competent
  ministry's unified social credit code + a 3-digit number, e.g.
  ``11100000MB03271699001`` 不动产权证书);
- issuer USCC        (证照颁发机构代码) the issuing body's 18-character unified
  social credit code (GB 32100), validated with ``stdnum.cn.uscc``;
- serial             (流水号) assigned by the issuer;
- version            (版本号) 3 digits, ``001`` for the first issue of a licence;
- check              (校验位) one character, ISO 7064 MOD 37,36 (hybrid) over
  type code + USCC + serial + version concatenated without dots, upper-case.

Serial width: the text of GB/T 36904 was not available when this was written.
Public implementations show the serial is issuer-defined and of varying length
(9 to 32 upper-case letters/digits: date-based numbers, random strings, UUIDs
without hyphens). This platform therefore chooses: serials it makes are decimal
counters zero-padded to :data:`SERIAL_WIDTH` = 10 digits (10^10 licences per
type and issuer). :func:`parse_identifier` accepts any serial of 1-64 upper-case
letters/digits, so identifiers from other issuers parse too; the check character
still has to match.

Input to :func:`parse_identifier` is normalised (surrounding whitespace removed,
letters upper-cased); ``str(Identifier)`` is the canonical form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from stdnum.cn import uscc
from stdnum.exceptions import ValidationError
from stdnum.iso7064 import mod_37_36

__all__ = [
    "ROOT",
    "SERIAL_WIDTH",
    "Identifier",
    "InvalidIdentifier",
    "make_identifier",
    "parse_identifier",
    "check_character",
]

#: The electronic licence root code (电子证照根代码).
ROOT = "1.2.156.3005.2"
#: Digits in a serial made by :func:`make_identifier` (zero-padded).
SERIAL_WIDTH = 10
MAX_SERIAL_LENGTH = 64
MAX_TYPE_CODE_LENGTH = 64
MAX_VERSION = 999

_ALNUM = re.compile(r"[0-9A-Z]+")
_VERSION = re.compile(r"[0-9]{3}")


class InvalidIdentifier(ValueError):
    """The text is not a valid electronic licence identifier (or its parts are not valid)."""


@dataclass(frozen=True)
class Identifier:
    """A parsed identifier. ``serial`` keeps its leading zeros; ``version`` is an int."""

    type_code: str
    issuer_uscc: str
    serial: str
    version: int
    check: str

    @property
    def body(self) -> str:
        """The characters the check character is computed over."""
        return f"{self.type_code}{self.issuer_uscc}{self.serial}{self.version:03d}"

    def __str__(self) -> str:
        return self.text

    @cached_property
    def text(self) -> str:
        """The canonical form (``str()``), made once per parsed identifier (`parse_identifier`
        keeps those it parsed: the verify API names the same ones again and again)."""
        return f"{ROOT}.{self.type_code}.{self.issuer_uscc}.{self.serial}.{self.version:03d}.{self.check}"


def check_character(type_code: str, issuer_uscc: str, serial: str, version: int | str) -> str:
    """The ISO 7064 MOD 37,36 check character for these parts (no validation)."""
    version_text = f"{version:03d}" if isinstance(version, int) else version
    return mod_37_36.calc_check_digit(f"{type_code}{issuer_uscc}{serial}{version_text}".upper())


def _check_type_code(type_code: object) -> str:
    if not isinstance(type_code, str):
        raise InvalidIdentifier("licence type code must be a string")
    code = type_code.strip().upper()
    if "." in code:
        raise InvalidIdentifier(f"licence type code {type_code!r} must not contain '.'")
    if not code or len(code) > MAX_TYPE_CODE_LENGTH or not _ALNUM.fullmatch(code):
        raise InvalidIdentifier(
            f"licence type code {type_code!r} must be 1-{MAX_TYPE_CODE_LENGTH} upper-case letters or digits"
        )
    return code


def _check_uscc(issuer_uscc: object) -> str:
    if not isinstance(issuer_uscc, str):
        raise InvalidIdentifier("issuer unified social credit code must be a string")
    return _valid_uscc(issuer_uscc.strip().upper())


@lru_cache(maxsize=1024)
def _valid_uscc(code: str) -> str:
    """The issuers are the platform's departments and a few others: each code is checked once
    per process, not on every verification that names it (invalid codes raise, and are not kept)."""
    try:
        return uscc.validate(code)
    except ValidationError as exc:
        raise InvalidIdentifier(f"issuer {code!r} is not a valid unified social credit code: {exc}") from None


def make_identifier(type_code: str, issuer_uscc: str, serial: int | str, version: int = 1) -> str:
    """Build the identifier for licence number ``serial`` of ``type_code`` issued by ``issuer_uscc``.

    ``serial`` is a non-negative int (or a string of decimal digits), zero-padded
    to :data:`SERIAL_WIDTH` digits; ``version`` is 1-999. Raises InvalidIdentifier.
    """
    code = _check_type_code(type_code)
    issuer = _check_uscc(issuer_uscc)
    if isinstance(serial, bool):
        raise InvalidIdentifier("serial must be an int or a string of digits")
    if isinstance(serial, str):
        text = serial.strip()
        if not text.isascii() or not text.isdigit():
            raise InvalidIdentifier(f"serial {serial!r} must be decimal digits")
        number = int(text)
    elif isinstance(serial, int):
        number = serial
    else:
        raise InvalidIdentifier("serial must be an int or a string of digits")
    if number < 0 or number >= 10**SERIAL_WIDTH:
        raise InvalidIdentifier(f"serial {serial!r} does not fit in {SERIAL_WIDTH} digits")
    serial_text = f"{number:0{SERIAL_WIDTH}d}"
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= MAX_VERSION:
        raise InvalidIdentifier(f"version {version!r} must be an int from 1 to {MAX_VERSION}")
    check = check_character(code, issuer, serial_text, version)
    return str(Identifier(code, issuer, serial_text, version, check))


def parse_identifier(s: str) -> Identifier:
    """Parse and validate an identifier. Raises InvalidIdentifier saying what is wrong."""
    if not isinstance(s, str):
        raise InvalidIdentifier("identifier must be a string")
    return _parse(s)


@lru_cache(maxsize=4096)
def _parse(s: str) -> Identifier:
    """A partner checks the same identifiers again and again: each is parsed and its check
    character computed once per process (invalid ones raise, and are not kept)."""
    text = s.strip().upper()
    prefix = ROOT + "."
    if not text.startswith(prefix):
        raise InvalidIdentifier(f"identifier must start with {prefix!r}")
    parts = text[len(prefix) :].split(".")
    if len(parts) != 5:
        raise InvalidIdentifier(
            f"identifier must have 5 parts after {ROOT} (type code, issuer, serial, version, check); "
            f"found {len(parts)} (a licence type code must not contain '.')"
        )
    type_code, issuer, serial, version, check = parts
    type_code = _check_type_code(type_code)
    issuer = _check_uscc(issuer)
    if not serial or len(serial) > MAX_SERIAL_LENGTH or not _ALNUM.fullmatch(serial):
        raise InvalidIdentifier(f"serial {serial!r} must be 1-{MAX_SERIAL_LENGTH} upper-case letters or digits")
    if not _VERSION.fullmatch(version):
        raise InvalidIdentifier(f"version {version!r} must be exactly 3 digits")
    if len(check) != 1 or not _ALNUM.fullmatch(check):
        raise InvalidIdentifier(f"check {check!r} must be a single letter or digit")
    expected = check_character(type_code, issuer, serial, version)
    if check != expected:
        raise InvalidIdentifier(f"wrong check character {check!r} (expected {expected!r})")
    return Identifier(type_code, issuer, serial, int(version), check)
