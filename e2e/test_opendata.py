"""政务公开 and open data in a real browser, signed out: the item's public page, 行政许可公示 with
the demo restaurant's licences and no person's name, and the dataset with its dictionary; no
session cookie is ever set."""

from __future__ import annotations

import csv
import io

from playwright.sync_api import expect


def test_a_visitor_reads_the_public_pages_and_the_open_data_without_a_session(new_context, screenshot):
    visitor = new_context().new_page()
    visitor.goto("/open/")
    expect(visitor.get_by_role("heading", name="政务公开", level=1)).to_be_visible()
    visitor.get_by_role("link", name="食品经营许可", exact=True).click()
    expect(visitor.get_by_role("table", name="办件统计（少于 5 件的不予公开）")).to_be_visible()
    visitor.get_by_role("link", name="行政许可公示").first.click()
    main = visitor.get_by_role("main")
    expect(main).to_contain_text("北京朝阳示例餐饮有限公司")
    expect(main).to_contain_text("自然人（不予公示）")
    expect(main).not_to_contain_text("张三")
    screenshot(visitor, "85-open-licences")
    visitor.get_by_role("link", name="开放数据").first.click()
    expect(visitor.get_by_role("table", name="数据字典")).to_contain_text("completed_on_time")
    response = visitor.context.request.get("/open/data/monthly.csv")
    assert response.ok and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text().lstrip("\ufeff"))))
    assert rows and all(r["submitted"] == "" or int(r["submitted"]) >= 5 for r in rows)
    assert visitor.context.request.get("/open/data/datapackage.json").json()["licenses"][0]["name"] == "CC-BY-4.0"
    assert visitor.context.cookies() == []
