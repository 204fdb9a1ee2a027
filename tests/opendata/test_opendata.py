"""政务公开 and open data: public pages without a session, 行政许可公示 without persons' data, and
the monthly statistics as CSV and JSON with small cells suppressed (k >= 5) and a data dictionary."""

from __future__ import annotations

import csv
import io

from govservice.cases import services as cases
from govservice.catalog import services as catalog
from govservice.opendata import services as opendata

from ..factories import ANSWERS, pdf_file, person, submitted_case


def _window_cases(n):
    for i in range(n):
        cases.intake_at_window(
            person("赵敏"),
            person("李娜"),
            catalog.current_item("scjgj-gtgsh-sldj"),
            dict(ANSWERS),
            [pdf_file()],
            f"w{i}",
        )


def test_small_cells_are_suppressed_in_json_and_csv_and_the_dictionary_describes_them(app, client, clock):
    with app.app_context():
        _window_cases(5)
        submitted_case()
        submitted_case()
    data = client.get("/open/data/monthly.json")
    assert data.status_code == 200 and "Set-Cookie" not in data.headers
    assert data.headers["Cache-Control"].startswith("public")
    body = data.get_json()
    assert body["suppressed_below"] == 5 and body["licence"]["name"] == "CC-BY-4.0"
    rows = {r["channel"]: r for r in body["rows"]}
    assert rows["窗口受理"]["submitted"] == 5 and rows["窗口受理"]["month"] == "2026-11"
    assert rows["网上申请"]["submitted"] is None  # two cases: suppressed, not "2"
    assert rows["窗口受理"]["completed"] is None  # none completed: nothing to tell
    assert "张三" not in data.get_data(as_text=True) and "李娜" not in data.get_data(as_text=True)
    table = list(
        csv.DictReader(io.StringIO(client.get("/open/data/monthly.csv").get_data(as_text=True).lstrip("\ufeff")))
    )
    by_channel = {r["channel"]: r for r in table}
    assert by_channel["网上申请"]["submitted"] == "" and by_channel["窗口受理"]["submitted"] == "5"
    package = client.get("/open/data/datapackage.json").get_json()
    assert package["licenses"][0]["path"] == "https://creativecommons.org/licenses/by/4.0/"
    schema = package["resources"][0]["schema"]
    assert [f["name"] for f in schema["fields"]] == list(table[0].keys()) and schema["missingValues"] == [""]
    page = client.get("/open/data/").get_data(as_text=True)
    assert "少于 5 件的单元格不予公开" in page and "completed_on_time" in page


def test_an_items_page_suppresses_small_figures(app, client, clock):
    with app.app_context():
        submitted_case()
    page = client.get("/open/items/scjgj-gtgsh-sldj")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Set-Cookie" not in page.headers
    assert "事项公开：个体工商户设立登记" in text and "不足 5 件，不予公开" in text
    assert client.get("/open/items/no-such-item").status_code == 404


def test_the_licences_granted_show_enterprises_but_never_persons(app, client, clock):
    with app.app_context():
        from govservice.certificates import demo as certificates_demo

        certificates_demo.load()
    page = client.get("/open/licences")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Set-Cookie" not in page.headers
    assert "北京朝阳示例餐饮有限公司" in text and "91110105MA01EFGH30" in text and "食品经营许可证" in text
    assert "自然人（不予公示）" in text  # 张三's and 李娜's certificates
    main = text.split("<main", 1)[1]
    assert "张三" not in main and "李娜" not in main and "张*" not in main
    assert "110105198802150035" not in main and "110105********" not in main and "440106" not in main


def test_suppression_threshold():
    assert [opendata.suppress(n) for n in (None, 0, 4, 5, 12)] == [None, None, None, 5, 12]
