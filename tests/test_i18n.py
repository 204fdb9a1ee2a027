"""Internationalisation: Simplified Chinese by default, English on request, and a complete catalogue.

The Chinese text is the gettext msgid; English lives in govservice/translations/en/LC_MESSAGES/messages.po.
`make test` compiles the catalogue first, but this module compiles it itself (a session fixture) so that
running pytest directly does not depend on make.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import url_for

PO_PATH = Path(__file__).resolve().parent.parent / "govservice" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
MO_PATH = PO_PATH.with_suffix(".mo")

# Python %-format placeholders: %(name)s, %s, %d, %.1f ... (a literal %% is not a placeholder).
PLACEHOLDER = re.compile(r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")


def _read_catalog():
    with PO_PATH.open("rb") as f:
        return read_po(f, locale="en")


def _placeholders(text: str) -> Counter:
    return Counter(m.group(0) for m in PLACEHOLDER.finditer(text) if m.group(0) != "%%")


def _texts(value) -> list[str]:
    if isinstance(value, (tuple, list)):
        return list(value)
    return [value]


@pytest.fixture(scope="session", autouse=True)
def compiled_catalog():
    """Compile messages.po to the messages.mo next to it (what `pybabel compile` does), atomically."""
    catalog = _read_catalog()
    fd, tmp = tempfile.mkstemp(dir=MO_PATH.parent, prefix=".messages-", suffix=".mo")
    try:
        with os.fdopen(fd, "wb") as f:
            write_mo(f, catalog)
        os.replace(tmp, MO_PATH)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return MO_PATH


def _switch(client, lang: str):
    return client.post("/lang", data={"lang": lang, "next": "/"})


def test_home_page_is_chinese_by_default(client):
    page = client.get("/")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert '<html lang="zh-CN">' in body
    assert "办事服务" in body
    assert "一网通办" in body
    # The switch to English is offered, labelled in English.
    assert 'value="en"' in body and ">English</button>" in body


def test_language_switch_to_english_and_back(client):
    answer = _switch(client, "en")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/")

    body = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in body
    assert ">Services</a>" in body  # the main navigation, in English
    assert "One-Network Government Services" in body
    assert "Sign in" in body
    assert "Skip to main content" in body
    assert "办事服务" not in body  # the Chinese navigation label is gone
    assert "跳到正文" not in body
    # The switch back is offered, labelled in Chinese.
    assert 'value="zh_Hans_CN"' in body and ">中文</button>" in body

    # The choice is kept in the session for later pages too.
    with client.application.test_request_context():
        catalogue_url = url_for("catalog.index")
    body = client.get(catalogue_url).get_data(as_text=True)
    assert '<html lang="en">' in body
    assert "<h1>Services</h1>" in body

    assert _switch(client, "zh_Hans_CN").status_code == 302
    body = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in body
    assert "办事服务" in body
    assert ">Services</a>" not in body


def test_unknown_language_is_ignored(client):
    assert _switch(client, "fr").status_code == 302
    body = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in body
    assert "办事服务" in body


def test_language_switch_only_redirects_within_the_site(client):
    answer = client.post("/lang", data={"lang": "en", "next": "//evil.example/"})
    assert answer.status_code == 302
    assert "evil.example" not in answer.headers["Location"]


def test_catalogue_is_complete():
    catalog = _read_catalog()
    messages = [m for m in catalog if m.id]
    assert messages, "the English catalogue has no messages"
    untranslated = [m.id for m in messages if not all(s and s.strip() for s in _texts(m.string))]
    assert not untranslated, f"untranslated msgids: {untranslated}"
    fuzzy = [m.id for m in messages if m.fuzzy]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    assert not catalog.fuzzy, "the catalogue header is marked fuzzy"
    assert not catalog.obsolete, f"obsolete entries left in the catalogue: {list(catalog.obsolete)}"


def test_catalogue_placeholders_match():
    mismatched = []
    for m in _read_catalog():
        if not m.id:
            continue
        wanted = Counter()
        for msgid in _texts(m.id):
            wanted |= _placeholders(msgid)
        for msgstr in _texts(m.string):
            if _placeholders(msgstr) != wanted:
                mismatched.append((m.id, msgstr))
    assert not mismatched, f"placeholders differ between msgid and msgstr: {mismatched}"


def test_catalogue_compiles_and_translates(app, compiled_catalog):
    assert compiled_catalog.exists() and compiled_catalog.stat().st_size > 0
    from flask_babel import force_locale, gettext

    with app.test_request_context("/"):
        with force_locale("en"):
            assert gettext("办事服务") == "Services"
            assert gettext("申请：%(name)s", name="食品经营许可") == "Apply for 食品经营许可"
        with force_locale("zh_Hans_CN"):
            assert gettext("办事服务") == "办事服务"
