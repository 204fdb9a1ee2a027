"""Home and search of issue 13: search first, 个人办事/法人办事, 热门事项 by real use, 进度查询;
search by relevance with synonyms, a typo answered with "您是不是要找…", English names."""

import re

import pytest

from govservice.cases import popular
from govservice.catalog import services as catalog

from ..factories import submitted_case


def _codes(items):
    return [i.code for i in items]


@pytest.mark.parametrize(
    "query, first",
    [
        ("business licence", "scjgj-gtgsh-sldj"),
        ("Business License", "scjgj-gtgsh-sldj"),  # US spelling and capitals
        ("residence permit", "gaj-jzz-sl"),
        ("how do I get unemployment benefits", "rsj-sybxj-sl"),
        ("restaurant", "scjgj-spjyxk"),
        ("新生儿落户", "gaj-csdj"),
        ("开公司", "scjgj-gtgsh-sldj"),  # a synonym: 开公司 -> 开办企业 / 营业执照
    ],
)
def test_english_and_everyday_words_find_the_item_first(ctx, query, first):
    assert _codes(catalog.find(query))[:1] == [first], (query, _codes(catalog.find(query)))


def test_a_typo_is_answered_with_did_you_mean_and_its_results(ctx):
    found = catalog.search("营业只照")
    assert found.suggestion == "营业执照" and _codes(found.items)[0] == "scjgj-gtgsh-sldj"
    assert catalog.search("量子纠缠").suggestion is None and catalog.search("量子纠缠").items == []


def test_the_catalogue_page_offers_the_correction(client):
    page = client.get("/items/", query_string={"q": "营业只照"}).get_data(as_text=True)
    assert "没有找到“营业只照”。" in page and "您是不是要找：" in page
    assert re.search(r'<a href="/items/\?q=%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7">营业执照</a>', page)
    assert "个体工商户设立登记" in page


def test_the_home_page_searches_first_and_splits_people_and_businesses(client):
    page = client.get("/").get_data(as_text=True)
    assert page.index('role="search"') < page.index("热门事项")
    assert 'action="/items/"' in page and 'href="/progress/"' in page
    people = page[page.index('id="aud-person"') : page.index('id="aud-enterprise"')]
    business = page[page.index('id="aud-enterprise"') :]
    assert "出生登记" in people and "建筑工程施工许可" not in people
    assert "建筑工程施工许可" in business and "出生登记" not in business
    assert "开办企业" in business and "就业" in people


def test_popular_items_are_those_applied_for_most(app, client, clock):
    with app.app_context():
        popular.forget()  # counts another test left behind
        before = _codes(popular.popular(catalog.list_items()))
        assert before[0] == "gaj-csdj"  # nothing used yet: catalogue order
        submitted_case()
        submitted_case()
        popular.forget()
        assert _codes(popular.popular(catalog.list_items()))[0] == "scjgj-gtgsh-sldj"
    page = client.get("/").get_data(as_text=True)
    hot = page[page.index("热门事项") : page.index('id="aud-person"')]
    assert hot.index("个体工商户设立登记") < hot.index("出生登记")
    with app.app_context():
        popular.forget()


def test_english_mode_shows_the_items_and_departments_english_names(app, client):
    client.post("/lang", data={"lang": "en", "next": "/"})
    page = client.get("/items/").get_data(as_text=True)
    assert "Registration of an individual business" in page and "Administration for Market Regulation" in page
    guide = client.get("/items/gaj-jzz-sl").get_data(as_text=True)
    assert "<h1>Residence permit application</h1>" in guide and "Public Security Sub-bureau" in guide
    home = client.get("/").get_data(as_text=True)
    assert "Unemployment benefit claim" in home


def test_an_item_or_department_without_its_english_name_stops_the_sync(ctx, tmp_path):
    import shutil

    from govservice.catalog.definitions import ItemFileError

    for path in catalog.ITEMS_DIR.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    item = tmp_path / "gaj-csdj.toml"
    item.write_text(re.sub(r"^name_en = .*\n", "", item.read_text(encoding="utf-8"), flags=re.M), encoding="utf-8")
    with pytest.raises(ItemFileError, match="gaj-csdj.toml: name_en: missing"):
        catalog.sync(tmp_path)
    shutil.copy(catalog.ITEMS_DIR / "gaj-csdj.toml", item)
    org = tmp_path / "departments.toml"
    org.write_text(org.read_text(encoding="utf-8").replace('name_en = "Health Commission"\n', ""), encoding="utf-8")
    with pytest.raises(ItemFileError, match=r"departments\[1\].name_en: missing"):
        catalog.sync(tmp_path)
