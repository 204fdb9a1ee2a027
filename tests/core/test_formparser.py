"""core.formparser reads every multipart body as Werkzeug's own parser does, and takes the fast
path for the bodies browsers and HTTP libraries send."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from urllib3 import encode_multipart_formdata
from werkzeug import formparser as werkzeug_parser
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.test import encode_multipart

from govservice.core import formparser

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\r\n--not-the-boundary\r\ntrailer\n%%EOF\n"


class Counting(formparser.FormDataParser):
    fast = 0

    def _parse_small(self, *args):
        answer = super()._parse_small(*args)
        Counting.fast += 1
        return answer


def outcome(parser_class, body: bytes, boundary: str, **limits):
    parser = parser_class(silent=False, **limits)
    try:
        _, form, files = parser.parse(io.BytesIO(body), "multipart/form-data", len(body), {"boundary": boundary})
    except (ValueError, RequestEntityTooLarge) as exc:
        return "refused", type(exc).__name__
    return (
        list(form.items(multi=True)),
        [
            (name, f.filename, f.name, f.content_type, list(f.headers.items()), f.stream.read())
            for name, f in files.items(multi=True)
        ],
    )


def same(body: bytes, boundary: str, **limits) -> bool:
    """Parsed alike both ways; True when the fast path read it (not left to Werkzeug)."""
    before = Counting.fast
    ours = outcome(Counting, body, boundary, **limits)
    assert ours == outcome(werkzeug_parser.FormDataParser, body, boundary, **limits)
    return Counting.fast > before


def browser_body(boundary: str, parts: list[tuple[str, str | None, str | None, bytes]]) -> bytes:
    """As Chromium writes a form: CRLF everywhere, a Content-Type on each file part."""
    out = b""
    for name, filename, content_type, value in parts:
        out += b"--" + boundary.encode() + b"\r\n"
        disposition = f'Content-Disposition: form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += disposition.encode() + b"\r\n"
        if content_type:
            out += f"Content-Type: {content_type}\r\n".encode()
        out += b"\r\n" + value + b"\r\n"
    return out + b"--" + boundary.encode() + b"--\r\n"


BOUNDARY = "----WebKitFormBoundaryQ3b9xZ0aLmP7tR2c"
APPLICATION = [
    ("business_name", None, None, "北京市朝阳区张三便利店".encode()),
    ("scope", None, None, b""),  # a field left empty
    ("interests", None, None, b"a"),
    ("interests", None, None, b"b"),  # a name sent twice (check boxes)
    ("material_premises", "租赁合同.pdf", "application/pdf", PDF),
    ("material_other", "", "application/octet-stream", b""),  # a file input left empty
]


def test_a_browser_form_with_files_and_empty_fields_is_read_on_the_fast_path():
    assert same(browser_body(BOUNDARY, APPLICATION), BOUNDARY)


def test_requests_and_urllib3_bodies_are_read_on_the_fast_path():
    fields = [
        ("name", "李娜"),
        ("note", ""),
        ("upload", ("营业执照.png", b"\x89PNG\r\n\x1a\n\r\n", "image/png")),
        ("plain", ("a.txt", b"ends with a line break\r\n")),
    ]
    body, content_type = encode_multipart_formdata(fields)
    assert same(body, content_type.split("boundary=")[1])


def test_werkzeugs_test_client_bodies_are_read_alike_with_their_empty_values():
    """Its encoder writes an empty value without the CRLF before the next boundary: left to
    Werkzeug, which reads it as empty (python-multipart would take the next part into it)."""
    boundary, body = encode_multipart({"empty": "", "after": "值", "file": (io.BytesIO(PDF), "x.pdf")})
    assert not same(body, boundary)
    boundary, body = encode_multipart({"full": "值", "file": (io.BytesIO(PDF), "x.pdf")})
    assert same(body, boundary)


@pytest.mark.parametrize(
    "body",
    [
        browser_body(BOUNDARY, APPLICATION).replace(b"\r\n", b"\n"),  # LF alone
        b"a preamble\r\n" + browser_body(BOUNDARY, APPLICATION),
        browser_body(BOUNDARY, APPLICATION).replace(
            b"Content-Disposition: form-data;", b"Content-Disposition: form-data;\r\n\t"
        ),
        browser_body(BOUNDARY, APPLICATION)[:-40],  # cut off
        browser_body(BOUNDARY, APPLICATION).replace(b"Content-Disposition", b"X-Nothing"),
        browser_body(BOUNDARY, [("name", None, "text/plain; charset=iso-8859-1", "café".encode("latin-1"))]),
        browser_body(BOUNDARY, [("name", None, None, b"\xff\xfe not UTF-8")]),
        browser_body(BOUNDARY, [("na\xefve", None, None, b"v")]).replace("na\xefve".encode(), b"na\xefve"),
        browser_body(BOUNDARY, APPLICATION) + b"an epilogue",
        b"--" + BOUNDARY.encode() + b"--\r\n",  # no parts at all
    ],
    ids=[
        "lf",
        "preamble",
        "folded-header",
        "truncated",
        "no-disposition",
        "latin-1",
        "bad-utf8",
        "bad-header",
        "epilogue",
        "empty",
    ],
)
def test_unusual_and_broken_bodies_get_werkzeugs_answer(body):
    same(body, BOUNDARY)


def test_the_form_limits_refuse_alike():
    body = browser_body(BOUNDARY, APPLICATION)
    assert outcome(Counting, body, BOUNDARY, max_form_parts=3) == ("refused", "RequestEntityTooLarge")
    assert same(body, BOUNDARY, max_form_parts=3) is False
    assert outcome(Counting, body, BOUNDARY, max_form_memory_size=10) == ("refused", "RequestEntityTooLarge")
    assert same(body, BOUNDARY, max_form_memory_size=10) is False


def test_a_body_beyond_the_small_size_is_streamed_by_werkzeug():
    big = browser_body(BOUNDARY, [("file", "big.pdf", "application/pdf", b"%PDF" + b"0" * formparser.SMALL_BODY)])
    assert not same(big, BOUNDARY)


@settings(max_examples=60, deadline=None)
@given(
    fields=st.lists(
        st.tuples(
            st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=8),
            st.one_of(st.text(max_size=40), st.binary(max_size=200).map(lambda b: ("f.bin", b))),
        ),
        max_size=6,
    )
)
def test_any_form_a_library_encodes_is_read_alike(fields):
    body, content_type = encode_multipart_formdata(fields)
    same(body, content_type.split("boundary=")[1])


def test_the_app_parses_its_forms_with_it(app):
    with app.test_request_context(
        "/",
        method="POST",
        data=browser_body(BOUNDARY, APPLICATION),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    ) as ctx:
        assert isinstance(ctx.request.make_form_data_parser(), formparser.FormDataParser)
        assert ctx.request.form.getlist("interests") == ["a", "b"]
        assert ctx.request.files["material_premises"].read() == PDF
