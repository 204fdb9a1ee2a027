"""The wallet at scale (issue 9): each certificate shows its latest few uses inline, the rest
on pages of their own; the page's statements do not grow with the certificates' uses."""

import re

from sqlalchemy import event

from govservice.certificates import queries, services
from govservice.core.extensions import db

from ..factories import DATA, person


def _uses(certificate, n, verifier="某银行"):
    for k in range(n):
        services.log_use(certificate, channel="api", verifier=f"{verifier}{k}", result="valid", purpose="开户")
    db.session.commit()


def test_the_latest_uses_are_inline_and_the_rest_on_their_own_pages(app, ctx, client, clock, login_as):
    certificate = services.issue("yyzz", person("张三"), DATA["yyzz"])
    _uses(certificate, 5)
    login_as(client, "张三")
    wallet = client.get("/wallet").get_data(as_text=True)
    shown = re.findall(r"<td>某银行(\d)</td>", wallet)
    assert shown == ["4", "3", "2"]  # newest first, three of them
    link = f"/wallet/{certificate.identifier}/verifications"
    assert f'<a href="{link}">查看全部用证记录' in wallet
    app.config["PAGE_SIZE"] = 2
    first = client.get(link).get_data(as_text=True)
    assert re.findall(r"<td>某银行(\d)</td>", first) == ["4", "3"]
    following = re.search(r'<a rel="next" href="([^"]+)">', first).group(1).replace("&amp;", "&")
    second = client.get(following).get_data(as_text=True)
    assert re.findall(r"<td>某银行(\d)</td>", second) == ["2", "1"]
    stranger = app.test_client()
    login_as(stranger, "李娜")
    assert stranger.get(link).status_code == 403


def test_inline_uses_cost_one_query_for_a_page_of_certificates(ctx, clock):
    holder = person("张三")
    few = services.issue("yyzz", holder, DATA["yyzz"])
    _uses(few, 1)
    many = services.issue("yyzz", holder, dict(DATA["yyzz"], business_name="北京市朝阳区张三便利店二店"))
    _uses(many, 9)
    few_id, many_id = few.id, many.id
    seen = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        latest, more = queries.latest_verifications([few_id, many_id], 3)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(seen) == 1
    assert [len(latest[few_id]), len(latest[many_id])] == [1, 3] and more == {many_id}
    assert [v.verifier for v in latest[many_id]] == ["某银行8", "某银行7", "某银行6"]
