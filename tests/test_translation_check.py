"""deploy/check_translations.py: the English catalogue against what the code extracts."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from babel.messages.catalog import Catalog

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("check_translations", ROOT / "deploy" / "check_translations.py")
check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check)


def test_it_lists_missing_untranslated_and_unused_msgids(tmp_path):
    (tmp_path / "babel.cfg").write_text("[python: govservice/**.py]\n[jinja2: templates/**.html]\n")
    (tmp_path / "govservice").mkdir()
    (tmp_path / "templates").mkdir()
    (tmp_path / "govservice" / "a.py").write_text(
        "from flask_babel import gettext as _\nfrom flask_babel import lazy_gettext as _l\n"
        "A = _l('已翻译')\nB = _('未收录')\nC = _('译文为空')\n"
    )
    (tmp_path / "templates" / "p.html").write_text("{{ _('页面文字') }} {{ ngettext('%(num)d 份', '%(num)d 份', n) }}")
    used = check.extract(tmp_path)
    assert {m.id if isinstance(m.id, str) else m.id[0] for m in used if m.id} == {
        "已翻译",
        "未收录",
        "译文为空",
        "页面文字",
        "%(num)d 份",
    }
    catalogue = Catalog(locale="en")
    catalogue.add("已翻译", "Translated")
    catalogue.add("译文为空", "")
    catalogue.add("页面文字", "Page text", flags=["fuzzy"])
    catalogue.add(("%(num)d 份", "%(num)d 份"), ("%(num)d copy", "%(num)d copies"))
    catalogue.add("代码已不用", "No longer used")
    missing, untranslated, unused = check.problems(used, catalogue)
    assert missing == ["未收录"]
    assert untranslated == ["译文为空", "页面文字"]
    assert unused == ["代码已不用"]


def test_the_project_catalogue_agrees_with_the_code(capsys):
    assert check.main() == 0, capsys.readouterr().out
