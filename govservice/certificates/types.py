"""Certificate types (证照类型) as data: one TOML file per type in ``licenses/``.

A type file::

    code = "yyzz"                        # platform code: [a-z][a-z0-9_]*, unique
    name = "营业执照"
    name_en = "Business Licence"
    licence_type_code = "..."            # GB/T 36904 licence type code: upper-case letters/digits, no dots
    issuer_department = "scjgj"          # the issuing department's code in the platform
    holder_kind = "person"               # "person" | "enterprise"
    validity = { years = 5 }             # or { days = N }; { years = 0 } or absent = long-term (长期)
    legal_basis = "..."                  # optional, free text
    number_field = "licence_number"      # optional: the field holding the licence's number (证号), by
                                         # which an applicant names a licence held (变更、延续、注销)

    [[fields]]                           # at least one; printed / stored in this order
    name = "credit_code"                 # [a-z][a-z0-9_]*, unique within the type
    label = "统一社会信用代码"
    label_en = "Unified Social Credit Code"   # optional
    masked = false                       # optional (default false): shown masked on public verification
    required = true                      # optional (default true): must be given when issuing

    [layout]
    title = "营业执照"
    subtitle = "..."                     # optional
    footer = "..."
    rows = ["credit_code", ...]          # field names to print, in order
    orientation = "landscape"            # optional: "portrait" (default) or "landscape" (the 营业执照)
    issuer_label = "登记机关"             # optional: what the issuer is called on the page (default 发证机关)

Unknown keys are errors (they are almost always typos). :func:`load_types` raises
:class:`CertificateTypeError` naming the file and the offending field.
"""

from __future__ import annotations

import calendar
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from stdnum.iso7064 import mod_11_10

__all__ = [
    "HOLDER_KINDS",
    "CertificateType",
    "CertificateTypeError",
    "Field",
    "Layout",
    "Validity",
    "load_type",
    "load_types",
]

HOLDER_KINDS = ("person", "enterprise")

_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_LICENCE_TYPE_CODE = re.compile(r"[0-9A-Z]{1,64}")

_REQUIRED_TOP_KEYS = (
    "code",
    "name",
    "name_en",
    "licence_type_code",
    "issuer_department",
    "holder_kind",
    "fields",
    "layout",
)
_TOP_KEYS = {*_REQUIRED_TOP_KEYS, "number", "validity", "legal_basis", "public_fields", "number_field"}
_FIELD_KEYS = {"name", "label", "label_en", "masked", "required"}
_LAYOUT_KEYS = {"title", "subtitle", "footer", "rows", "title_field", "orientation", "issuer_label"}
_VALIDITY_KEYS = {"years", "days"}

D = TypeVar("D", date, datetime)


class CertificateTypeError(ValueError):
    """A type file (or the set of them) is invalid. ``path`` and ``field`` say where."""

    def __init__(self, path: str | os.PathLike[str] | None, field: str | None, message: str):
        self.path = str(path) if path is not None else None
        self.field = field
        where = ": ".join(p for p in (self.path, field) if p)
        super().__init__(f"{where}: {message}" if where else message)


#: check digits a licence number may end with (`[number] check`)
NUMBER_CHECKS = {"iso7064-mod-11-10": mod_11_10.calc_check_digit}


@dataclass(frozen=True)
class NumberFormat:
    """How the issuer writes a licence's number (`[number]` in its type file).

    ``format`` and ``body`` are Python format strings over ``region`` (REGION_CODE), ``serial``
    (the type's sequence) and ``year`` (of the decision); ``format`` also has ``body`` and
    ``check``, the check digit computed over ``body`` by the named ``check`` algorithm."""

    format: str
    body: str = ""
    check: str | None = None

    def render(self, region: str, serial: int, year: int) -> str:
        values = {"region": region, "serial": serial, "year": year}
        body = self.body.format(**values)
        check = NUMBER_CHECKS[self.check](body) if self.check else ""
        return self.format.format(body=body, check=check, **values)


#: a type file without `[number]`
DEFAULT_NUMBER = NumberFormat(format="{code}{region}{serial:08d}")


@dataclass(frozen=True)
class Validity:
    """How long a certificate is valid. Both zero = long-term (长期)."""

    years: int = 0
    days: int = 0

    @property
    def is_long_term(self) -> bool:
        return self.years == 0 and self.days == 0

    def expires(self, issued: D) -> D | None:
        """The first moment (or day) the certificate is no longer valid; None if long-term.

        ``years`` keeps the calendar day (29 February -> 28 February when needed).
        """
        if self.is_long_term:
            return None
        if self.years:
            year = issued.year + self.years
            day = min(issued.day, calendar.monthrange(year, issued.month)[1])
            return issued.replace(year=year, day=day)
        return issued + timedelta(days=self.days)

    def describe(self) -> str:
        if self.is_long_term:
            return "长期"
        return f"{self.years}年" if self.years else f"{self.days}日"


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    label_en: str = ""
    masked: bool = False
    required: bool = True


@dataclass(frozen=True)
class Layout:
    title: str
    footer: str
    rows: tuple[str, ...]
    subtitle: str | None = None
    #: a field whose value is the printed title (a decision letter is titled by its item)
    title_field: str | None = None
    orientation: str = "portrait"
    issuer_label: str = "发证机关"


@dataclass(frozen=True)
class CertificateType:
    code: str
    name: str
    name_en: str
    licence_type_code: str
    issuer_department: str
    holder_kind: str
    validity: Validity
    fields: tuple[Field, ...]
    layout: Layout
    legal_basis: str | None = None
    source: str | None = None  # the file it was loaded from
    #: public registration facts (a business's name, credit code, type, legal representative)
    #: that the public verification page shows in full
    public_fields: tuple[str, ...] = ()
    #: the field holding the licence's number (证号): certificates are found by it (`number_hash`)
    number_field: str | None = None
    number: NumberFormat = DEFAULT_NUMBER

    def licence_number(self, region: str, serial: int, year: int) -> str:
        """The number printed on a licence of this type, in the form its issuer uses."""
        if self.number is DEFAULT_NUMBER:
            return DEFAULT_NUMBER.format.format(code=self.code.upper(), region=region, serial=serial)
        return self.number.render(region, serial, year)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def masked_fields(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields if f.masked)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


# --------------------------------------------------------------------------- loading


class _Checker:
    def __init__(self, path: Path):
        self.path = path

    def error(self, field: str | None, message: str) -> CertificateTypeError:
        return CertificateTypeError(self.path, field, message)

    def unknown_keys(self, table: Mapping[str, Any], allowed: set[str], where: str | None) -> None:
        extra = sorted(set(table) - allowed)
        if extra:
            name = f"{where}.{extra[0]}" if where else extra[0]
            raise self.error(name, f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def text(self, table: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
        if key not in table:
            if required:
                raise self.error(where, "missing required key")
            return None
        value = table[key]
        if not isinstance(value, str) or not value.strip():
            raise self.error(where, "must be a non-empty string")
        return value.strip()

    def boolean(self, table: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            raise self.error(where, "must be true or false")
        return value


def _validity(check: _Checker, raw: Any) -> Validity:
    if raw is None:
        return Validity()
    if not isinstance(raw, Mapping):
        raise check.error("validity", "must be a table such as { years = 3 } or { days = 90 }")
    check.unknown_keys(raw, _VALIDITY_KEYS, "validity")
    values: dict[str, int] = {}
    for key in ("years", "days"):
        if key in raw:
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise check.error(f"validity.{key}", "must be a non-negative integer")
            values[key] = value
    if not values:
        raise check.error("validity", "give years or days (years = 0 for long-term)")
    if len(values) > 1 and all(values.values()):
        raise check.error("validity", "give either years or days, not both")
    if values.get("years", 0) > 100 or values.get("days", 0) > 36600:
        raise check.error("validity", "implausibly long; use years = 0 for long-term")
    return Validity(years=values.get("years", 0), days=values.get("days", 0))


def _fields(check: _Checker, raw: Any) -> tuple[Field, ...]:
    if not isinstance(raw, list) or not raw:
        raise check.error("fields", "must be a non-empty array of tables ([[fields]])")
    fields: list[Field] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        where = f"fields[{i}]"
        if not isinstance(item, Mapping):
            raise check.error(where, "must be a table")
        if "name" in item and isinstance(item["name"], str):
            where = f"fields[{i}] ({item['name']})"
        check.unknown_keys(item, _FIELD_KEYS, where)
        name = check.text(item, "name", f"{where}.name")
        assert name is not None
        if not _FIELD_NAME.fullmatch(name):
            raise check.error(f"{where}.name", "must match [a-z][a-z0-9_]* (at most 64 characters)")
        if name in seen:
            raise check.error(f"{where}.name", f"duplicate field name {name!r}")
        seen.add(name)
        label = check.text(item, "label", f"{where}.label")
        label_en = check.text(item, "label_en", f"{where}.label_en", required=False) or ""
        masked = check.boolean(item, "masked", f"{where}.masked", False)
        required = check.boolean(item, "required", f"{where}.required", True)
        assert label is not None
        fields.append(Field(name, label, label_en, masked, required))
    return tuple(fields)


def _layout(check: _Checker, raw: Any, field_names: set[str]) -> Layout:
    if not isinstance(raw, Mapping):
        raise check.error("layout", "must be a table ([layout])")
    check.unknown_keys(raw, _LAYOUT_KEYS, "layout")
    title = check.text(raw, "title", "layout.title")
    footer = check.text(raw, "footer", "layout.footer")
    subtitle = check.text(raw, "subtitle", "layout.subtitle", required=False)
    if "rows" not in raw:
        raise check.error("layout.rows", "missing required key")
    rows = raw["rows"]
    if not isinstance(rows, list) or not rows or not all(isinstance(r, str) for r in rows):
        raise check.error("layout.rows", "must be a non-empty list of field names")
    for row in rows:
        if row not in field_names:
            raise check.error("layout.rows", f"{row!r} is not a field of this type")
    if len(set(rows)) != len(rows):
        raise check.error("layout.rows", "lists a field more than once")
    title_field = check.text(raw, "title_field", "layout.title_field", required=False)
    if title_field is not None and title_field not in field_names:
        raise check.error("layout.title_field", f"{title_field!r} is not a field of this type")
    orientation = check.text(raw, "orientation", "layout.orientation", required=False) or "portrait"
    if orientation not in ("portrait", "landscape"):
        raise check.error("layout.orientation", "must be portrait or landscape")
    issuer_label = check.text(raw, "issuer_label", "layout.issuer_label", required=False) or "发证机关"
    assert title is not None and footer is not None
    return Layout(
        title=title,
        footer=footer,
        rows=tuple(rows),
        subtitle=subtitle,
        title_field=title_field,
        orientation=orientation,
        issuer_label=issuer_label,
    )


def _from_mapping(check: _Checker, data: Mapping[str, Any]) -> CertificateType:
    check.unknown_keys(data, _TOP_KEYS, None)
    for key in _REQUIRED_TOP_KEYS:
        if key not in data:
            raise check.error(key, "missing required key")
    code = check.text(data, "code", "code")
    assert code is not None
    if not _CODE.fullmatch(code):
        raise check.error("code", "must match [a-z][a-z0-9_]* (at most 32 characters)")
    name = check.text(data, "name", "name")
    name_en = check.text(data, "name_en", "name_en")
    licence_type_code = check.text(data, "licence_type_code", "licence_type_code")
    assert licence_type_code is not None
    if not _LICENCE_TYPE_CODE.fullmatch(licence_type_code):
        raise check.error(
            "licence_type_code",
            "must be 1-64 upper-case letters or digits (no dots: it is one group of the identifier)",
        )
    issuer_department = check.text(data, "issuer_department", "issuer_department")
    assert issuer_department is not None
    if not _CODE.fullmatch(issuer_department):
        raise check.error("issuer_department", "must be a department code matching [a-z][a-z0-9_]*")
    holder_kind = data["holder_kind"]
    if holder_kind not in HOLDER_KINDS:
        raise check.error("holder_kind", f"{holder_kind!r} is not one of {', '.join(HOLDER_KINDS)}")
    validity = _validity(check, data.get("validity"))
    fields = _fields(check, data["fields"])
    layout = _layout(check, data["layout"], {f.name for f in fields})
    legal_basis = check.text(data, "legal_basis", "legal_basis", required=False)
    public = data.get("public_fields", [])
    if not isinstance(public, list) or not all(isinstance(n, str) for n in public):
        raise check.error("public_fields", "must be a list of field names")
    for name_ in public:
        if name_ not in {f.name for f in fields}:
            raise check.error("public_fields", f"{name_!r} is not a field of this type")
        if any(f.name == name_ and f.masked for f in fields):
            raise check.error("public_fields", f"{name_!r} is masked: it cannot be public too")
    number_field = check.text(data, "number_field", "number_field", required=False)
    if number_field is not None and number_field not in {f.name for f in fields}:
        raise check.error("number_field", f"{number_field!r} is not a field of this type")
    number = _number(check, data.get("number"))
    assert name is not None and name_en is not None
    return CertificateType(
        code=code,
        name=name,
        name_en=name_en,
        licence_type_code=licence_type_code,
        issuer_department=issuer_department,
        holder_kind=holder_kind,
        validity=validity,
        fields=fields,
        layout=layout,
        legal_basis=legal_basis,
        source=str(check.path),
        public_fields=tuple(public),
        number_field=number_field,
        number=number,
    )


def _number(check: _Checker, raw: Any) -> NumberFormat:
    if raw is None:
        return DEFAULT_NUMBER
    if not isinstance(raw, Mapping):
        raise check.error("number", "must be a table (format, and optionally body and check)")
    check.unknown_keys(raw, {"format", "body", "check"}, "number")
    pattern = check.text(raw, "format", "number.format")
    body = check.text(raw, "body", "number.body", required=False) or ""
    digit = check.text(raw, "check", "number.check", required=False)
    if digit is not None and digit not in NUMBER_CHECKS:
        raise check.error("number.check", f"{digit!r} is not one of {', '.join(NUMBER_CHECKS)}")
    assert pattern is not None
    number = NumberFormat(format=pattern, body=body, check=digit)
    try:
        number.render("110105", 1, 2026)
    except (KeyError, IndexError, ValueError) as exc:
        raise check.error(
            "number.format", f"cannot be rendered ({exc!r}): use region, serial, year, body, check"
        ) from None
    return number


def load_type(path: str | os.PathLike[str]) -> CertificateType:
    """Load and validate one type file. Raises CertificateTypeError."""
    file = Path(path)
    check = _Checker(file)
    try:
        with open(file, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise check.error(None, f"cannot read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise check.error(None, f"invalid TOML: {exc}") from exc
    return _from_mapping(check, data)


def load_types(directory: str | os.PathLike[str]) -> dict[str, CertificateType]:
    """Load every ``*.toml`` in ``directory`` (sorted by file name), keyed by ``code``.

    Raises CertificateTypeError for an invalid file, a duplicate code, or a
    directory that does not exist.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise CertificateTypeError(folder, None, "not a directory")
    types: dict[str, CertificateType] = {}
    for file in sorted(folder.glob("*.toml")):
        if not file.is_file():
            continue
        ctype = load_type(file)
        if ctype.code in types:
            raise CertificateTypeError(
                file, "code", f"duplicate code {ctype.code!r} (also in {Path(types[ctype.code].source or '').name})"
            )
        types[ctype.code] = ctype
    return types
