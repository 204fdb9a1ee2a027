"""Item files: every real item loads; a broken file is refused with the file and the field named."""

import shutil
import tomllib
from pathlib import Path

import pytest

from govservice.catalog import services as catalog
from govservice.catalog.definitions import ItemFileError, read_items
from govservice.catalog.models import ServiceItem
from govservice.core.extensions import db

ITEMS = Path(__file__).resolve().parents[2] / "items"
DEPARTMENTS = {"scjgj", "wsjkw", "gaj", "rsj", "zjw"}
TYPES = {"yyzz", "spjyxkz", "ggcswsxkz", "jzz", "jzgcsgxkz"}


def _load(directory=ITEMS):
    return read_items(directory, departments=DEPARTMENTS, certificate_types=TYPES)


def test_the_catalogue_has_real_items_for_people_and_businesses():
    items = _load()
    assert len(items) >= 8 and len({i["department"] for i in items}) >= 4
    assert {i["audience"] for i in items} >= {"person", "enterprise", "both"}
    joint = [i for i in items if any(s["mode"] == "joint" and len(s["departments"]) >= 2 for s in i["workflow"])]
    assert [i["name"] for i in joint] == ["建筑工程施工许可"] and joint[0]["joint_departments"] == ["rsj"]
    letters = [i for i in items if i["result"] == "none"]
    assert letters and all(i["result_name"] for i in letters)
    assert {i["result"] for i in items} >= TYPES  # every certificate type is some item's result
    for item in items:  # every guide is complete
        guide = item["guide"]
        assert guide["legal_basis"] and guide["conditions"] and guide["fee"] and guide["place"] and guide["contact"]
        assert item["time_limit"]["commitment_days"] <= item["time_limit"]["statutory_days"]
        assert item["keywords"] and item["life_events"]


def _broken(tmp_path, name, change):
    directory = tmp_path / "items"
    shutil.copytree(ITEMS, directory)
    path = directory / name
    text = path.read_text(encoding="utf-8")
    path.write_text(change(text), encoding="utf-8")
    return directory


@pytest.mark.parametrize(
    "name, change, field, problem",
    [
        (
            "gaj-jzz-sl.toml",
            lambda t: t.replace('result = "jzz"', 'result = "hzz"'),
            "result",
            "unknown certificate type",
        ),
        (
            "rsj-lhjy-cbdj.toml",
            lambda t: t.replace('replaceable_by = "jzz"', 'replaceable_by = "sfz"'),
            "materials[0].replaceable_by",
            "unknown certificate type 'sfz'",
        ),
        (
            "scjgj-spjyxk.toml",
            lambda t: t.replace("legal_basis = [", "legal_basiss = ["),
            "guide.legal_basiss",
            "unknown field",
        ),
        ("wsjkw-ggcswsxk.toml", lambda t: t.replace('kind = "行政许可"\n', ""), "kind", "missing"),
        (
            "zjw-jzgc-sgxk.toml",
            lambda t: t.replace('departments = ["zjw", "rsj"]', 'departments = ["zjw"]'),
            "workflow[0].departments",
            "two or more departments",
        ),
        (
            "gaj-csdj.toml",
            lambda t: t.replace('prefill = "population.household_address"', 'prefill = "population.x"'),
            "fields[2].prefill",
            "unknown source",
        ),
        (
            "rsj-sybxj-sl.toml",
            lambda t: t.replace("commitment_days = 3", "commitment_days = 30"),
            "time_limit.commitment_days",
            "longer than the statutory limit",
        ),
        (
            "scjgj-gtgsh-zxdj.toml",
            lambda t: t.replace('form = "原件"', 'form = "原本"', 1),
            "materials[0].form",
            "must be one of",
        ),
    ],
)
def test_a_broken_item_file_names_the_file_and_the_field(tmp_path, name, change, field, problem):
    with pytest.raises(ItemFileError) as caught:
        _load(_broken(tmp_path, name, change))
    assert caught.value.path.endswith(name) and caught.value.field == field and problem in caught.value.problem
    assert str(caught.value).startswith(f"{name}: {field}: ")


def test_a_missing_guide_field_is_named(tmp_path):
    directory = _broken(
        tmp_path, "gaj-jzz-sl.toml", lambda t: t.replace('fee = "首次申领不收费；换领、补领收取工本费20元"\n', "")
    )
    with pytest.raises(ItemFileError, match=r"gaj-jzz-sl.toml: guide.fee: missing"):
        _load(directory)


def test_a_failed_sync_changes_nothing_and_the_command_says_why(app, ctx, tmp_path, monkeypatch):
    before = db.session.execute(db.select(db.func.count(ServiceItem.id))).scalar_one()
    directory = _broken(
        tmp_path,
        "gaj-jzz-sl.toml",
        lambda t: t.replace('name = "居住证申领"', 'name = "居住证"').replace('result = "jzz"', 'result = "nope"'),
    )
    with pytest.raises(ItemFileError):
        catalog.sync(directory)
    db.session.rollback()
    assert db.session.execute(db.select(db.func.count(ServiceItem.id))).scalar_one() == before
    assert catalog.current_item("gaj-jzz-sl").name == "居住证申领"
    monkeypatch.setattr(catalog, "ITEMS_DIR", directory)
    monkeypatch.setattr(catalog.sync, "__defaults__", (directory,))
    result = app.test_cli_runner().invoke(args=["govservice", "catalog", "sync"])
    assert result.exit_code != 0 and "gaj-jzz-sl.toml: result: unknown certificate type 'nope'" in result.output


def test_every_item_file_is_valid_toml_with_one_item():
    for path in ITEMS.glob("*.toml"):
        with open(path, "rb") as fh:
            assert tomllib.load(fh)


def test_a_text_without_its_english_twin_is_a_sync_error(tmp_path):
    """English for content lives beside the Chinese in the item file; a reader-facing text
    without it stops the sync, naming the file and the field."""
    import shutil

    from govservice.catalog.definitions import ItemFileError, read_departments, read_items

    items = Path(__file__).resolve().parents[2] / "items"
    for name in ("departments.toml", "scjgj-spjyxk-bg.toml"):
        shutil.copy(items / name, tmp_path / name)
    departments = {d["code"] for d in read_departments(tmp_path)["departments"]}
    kwargs = {"departments": departments, "certificate_types": {"spjyxkz", "yyzz"}}
    assert read_items(tmp_path, **kwargs)[0]["guide"]["faq"][0]["q_en"]
    path = tmp_path / "scjgj-spjyxk-bg.toml"
    original = path.read_text(encoding="utf-8")
    cases = [
        ('q_en = "Does the licence\'s period of validity start again after a change?"\n', "", "guide.faq[0].q_en"),
        ('name_en = "Documents about the change"\n', "", "materials[1].name_en"),
        ('fee_en = "Free of charge"\n', 'fee_en = ""\n', "guide.fee_en"),
        (
            'choices_en = ["Food retailer", "Catering business", "Canteen of an organisation"]',
            'choices_en = ["Food retailer", "Catering business"]',
            "choices_en",
        ),
    ]
    for old, new, field in cases:
        assert old in original, old
        path.write_text(original.replace(old, new), encoding="utf-8")
        with pytest.raises(ItemFileError) as caught:
            read_items(tmp_path, **kwargs)
        assert field in caught.value.field and "English" in caught.value.problem
