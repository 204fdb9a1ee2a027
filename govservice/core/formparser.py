"""Multipart form bodies: python-multipart for a form of ordinary size, Werkzeug for the rest.

Werkzeug's decoder compiles two regular expressions for each body's boundary, and a browser
sends a new random boundary with every form: most of the cost of parsing a submission (about
0.4 ms of CPU for the application form with a small PDF). python-multipart's state machine
(the parser of Starlette and FastAPI) reads the same body in a tenth of that.

The two must read every body alike, and `tests/core/test_formparser.py` parses bodies of
browsers, requests, urllib3 and Werkzeug's test client both ways. Where the fast path might
read one differently, it declines before anything is kept and Werkzeug parses the same bytes,
so Werkzeug's answer (and its error, its 413) stands: a body larger than SMALL_BODY or of no
stated length (streamed, as Werkzeug streams it), a body python-multipart refuses or does not
finish, a preamble, a folded header, a part over the form's memory limit or past its count of
parts, a header that is not UTF-8, and the empty value that Werkzeug's test client writes
without the line break before the next boundary (which RFC 2046 would read as part of the
value: python-multipart does, Werkzeug does not).
"""

from __future__ import annotations

import functools
import io

from flask import Request as FlaskRequest
from python_multipart.multipart import MultipartParser, MultipartState
from werkzeug import formparser
from werkzeug.datastructures import FileStorage, Headers
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import File

#: Bodies up to this size are read into memory and parsed by python-multipart; Werkzeug streams
#: larger ones to its spooled files (an upload of several MB, where the parse is not the cost).
SMALL_BODY = 1 << 20


#: A form's parts carry the same few Content-Disposition values request after request (only the
#: boundary is new each time): parsed once each (the answer is read, never changed).
_disposition = functools.lru_cache(maxsize=4096)(parse_options_header)


class Declined(Exception):
    """This body is left to Werkzeug's parser."""


class FormDataParser(formparser.FormDataParser):
    def _parse_multipart(self, stream, mimetype, content_length, options):
        boundary = options.get("boundary", "").encode("ascii")
        if boundary and content_length is not None and 0 < content_length <= SMALL_BODY:
            body = _read(stream, content_length)
            try:
                form, files = self._parse_small(body, boundary, content_length)
            except Declined:
                stream = io.BytesIO(body)
            else:
                return stream, form, files
        return super()._parse_multipart(stream, mimetype, content_length, options)

    def _parse_small(self, body: bytes, boundary: bytes, content_length: int):
        delimiter = b"--" + boundary
        if not body.startswith(delimiter + b"\r\n", 2 if body.startswith(b"\r\n") else 0):
            raise Declined  # a preamble, or line breaks other than CRLF
        werkzeug = formparser.MultiPartParser(
            stream_factory=self.stream_factory,
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts,
            cls=self.cls,
        )
        parts = _Parts(self, werkzeug, content_length, delimiter)
        parser = MultipartParser(boundary, parts.callbacks)
        try:
            parser.write(body)
        except Declined:
            raise
        except Exception as exc:  # python-multipart refuses it: Werkzeug says what is wrong
            raise Declined from exc
        if parser.state != MultipartState.END:
            raise Declined
        return self.cls(parts.fields), self.cls(parts.files)


class _Parts:
    """python-multipart's callbacks, making of each part what Werkzeug's parser makes of it."""

    def __init__(self, owner: FormDataParser, werkzeug: formparser.MultiPartParser, content_length: int, delimiter):
        self.owner, self.werkzeug, self.content_length = owner, werkzeug, content_length
        self.delimiter = delimiter
        self.fields: list = []
        self.files: list = []
        self.count = 0
        self.callbacks = {
            "on_part_begin": self.begin,
            "on_header_field": self.header_field,
            "on_header_value": self.header_value,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.data,
            "on_part_end": self.end,
        }

    def begin(self):
        self.headers, self.field, self.value = [], bytearray(), bytearray()

    def header_field(self, data, start, end):
        self.field += data[start:end]

    def header_value(self, data, start, end):
        self.value += data[start:end]

    def header_end(self):
        try:
            name, value = self.field.decode(), self.value.decode()
        except UnicodeDecodeError:
            raise Declined from None
        self.headers.append((name.strip(" \t"), value.strip(" \t")))
        self.field, self.value = bytearray(), bytearray()

    def headers_finished(self):
        self.head = bytearray()
        headers = self.part_headers = Headers(self.headers)
        if "content-disposition" not in headers:
            raise Declined
        self.count += 1
        if self.owner.max_form_parts is not None and self.count > self.owner.max_form_parts:
            raise Declined
        _, extra = _disposition(headers["content-disposition"])
        self.name, filename = extra.get("name"), extra.get("filename")
        if filename is None:
            self.file, self.chunks, self.size = None, [], 0
        else:
            self.file = File(name=self.name, filename=filename, headers=headers)
            self.container = self.werkzeug.start_file_streaming(self.file, self.content_length)

    def data(self, data, start, end):
        if len(self.head) < len(self.delimiter):
            self.head += data[start:end]
            if self.head.startswith(self.delimiter[: len(self.head)]):
                raise Declined  # a value that begins with the boundary: the test client's empty one
        if self.file is not None:
            self.container.write(data[start:end])
            return
        self.size += end - start
        limit = self.owner.max_form_memory_size
        if limit is not None and self.size > limit:
            raise Declined
        self.chunks.append(data[start:end])

    def end(self):
        if self.file is None:
            charset = self.werkzeug.get_part_charset(self.part_headers)
            self.fields.append((self.name, b"".join(self.chunks).decode(charset, "replace")))
        else:
            self.container.seek(0)
            self.files.append(
                (self.name, FileStorage(self.container, self.file.filename, self.name, headers=self.part_headers))
            )


def _read(stream, length: int) -> bytes:
    chunks, left = [], length
    while left > 0:
        chunk = stream.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


class Request(FlaskRequest):
    form_data_parser_class = FormDataParser
