"""The catalogue in the database: versioned sync, search in Chinese, browsing."""

import shutil
from pathlib import Path

import pytest

from govservice.catalog import search
from govservice.catalog import services as catalog
from govservice.catalog.models import SearchTerm
from govservice.core.extensions import db

from ..factories import submitted_case

ITEMS = Path(__file__).resolve().parents[2] / "items"


def _codes(items):
    return [i.code for i in items]


def test_a_changed_item_gets_a_new_version_and_a_case_keeps_its_own(ctx, clock, tmp_path):
    case = submitted_case()
    directory = tmp_path / "items"
    shutil.copytree(ITEMS, directory)
    path = directory / "scjgj-gtgsh-sldj.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('fee = "不收费"', 'fee = "不收费（2027年起）"'), encoding="utf-8"
    )
    report = catalog.sync(directory)
    assert report.updated == ["scjgj-gtgsh-sldj"] and not report.added
    current = catalog.current_item("scjgj-gtgsh-sldj")
    assert current.version == 2 and current.guide["fee"] == "不收费（2027年起）"
    db.session.refresh(case)
    assert case.item.version == 1 and case.item.guide["fee"] == "不收费"
    # the search index follows the current version only
    items = {t.item_id for t in db.session.execute(db.select(SearchTerm)).scalars()}
    assert current.id in items and case.item_id not in items
    assert catalog.sync(directory).unchanged and not catalog.sync(directory).updated


@pytest.mark.parametrize(
    "query, expected",
    [
        ("营业执照", "scjgj-gtgsh-sldj"),
        ("开饭店", "scjgj-spjyxk"),
        ("我想开饭店", "scjgj-spjyxk"),
        ("怎么办居住证", "gaj-jzz-sl"),
        ("交社保", "rsj-lhjy-cbdj"),
        ("失业金", "rsj-sybxj-sl"),
        ("宝宝上户口", "gaj-csdj"),
        ("施工许可证", "zjw-jzgc-sgxk"),
        ("理发店", "wsjkw-ggcswsxk"),
        ("个体户注销", "scjgj-gtgsh-zxdj"),
    ],
)
def test_searching_in_everyday_chinese_finds_the_item(ctx, query, expected):
    found = _codes(catalog.find(query))
    assert expected in found[:2], (query, found)


def test_营业执照_finds_the_items_about_business_licences_not_those_that_ask_for_one(ctx):
    found = _codes(catalog.find("营业执照"))
    assert {"scjgj-gtgsh-sldj", "scjgj-gtgsh-zxdj"} <= set(found)
    assert found[0] == "scjgj-gtgsh-sldj"  # the keyword match ranks above a material's name
    # 居住证申领 and 灵活就业人员参保登记 only list a 营业执照 among their materials (issue 13)
    assert not {"gaj-jzz-sl", "rsj-lhjy-cbdj"} & set(found), found


def test_开饭店_finds_the_food_licence_and_the_business_registration(ctx):
    assert {"scjgj-spjyxk", "scjgj-gtgsh-sldj"} <= set(_codes(catalog.find("开饭店")))


def test_a_query_with_nothing_in_it_finds_nothing(ctx):
    assert catalog.find("量子纠缠") == [] and search.search("   ").items == [] and search.search("我想办理").items == []


def test_one_character_and_latin_queries(ctx):
    assert "gaj-jzz-sl" in _codes(catalog.find("证"))
    assert "zjw-jzgc-sgxk" in _codes(catalog.find("KTV")) or "wsjkw-ggcswsxk" in _codes(catalog.find("KTV"))


def test_browsing_by_department_life_event_and_audience(ctx):
    assert set(_codes(catalog.find(department="rsj"))) == {"rsj-lhjy-cbdj", "rsj-sybxj-sl"}
    assert "gaj-csdj" in _codes(catalog.find(event="出生"))
    people = _codes(catalog.find(audience="person"))
    businesses = _codes(catalog.find(audience="enterprise"))
    assert "gaj-jzz-sl" in people and "gaj-jzz-sl" not in businesses
    assert "zjw-jzgc-sgxk" in businesses and "zjw-jzgc-sgxk" not in people
    assert "scjgj-spjyxk" in people and "scjgj-spjyxk" in businesses  # audience "both"
    assert _codes(catalog.find("开饭店", audience="enterprise")) == ["scjgj-spjyxk"]
    facets = catalog.facets()
    assert ("rsj", "人力资源和社会保障局", 2) in facets["departments"]
    assert dict(facets["events"]["enterprise"])["工程建设"] == 1


def test_the_catalogue_commands(app):
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["govservice", "catalog", "list"]).output.splitlines()
    assert len(listed) == 10 and "zjw-jzgc-sgxk\t建筑工程施工许可\t住房和城乡建设委员会" in listed
    found = runner.invoke(args=["govservice", "catalog", "search", "开饭店"]).output.splitlines()
    assert "scjgj-spjyxk\t食品经营许可\t市场监督管理局" in found[:2]
    generated = runner.invoke(args=["govservice", "registry", "generate", "--people", "3", "--enterprises", "1"])
    assert generated.exit_code == 0 and len(generated.output.splitlines()) == 4 and '"population"' in generated.output
