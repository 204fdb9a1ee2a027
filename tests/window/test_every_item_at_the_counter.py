"""A clerk files a walk-in case for every item a person can apply for at the counter, through the
pages, with the demo logins: what the registry knows is filled in and read-only, the rest typed."""
import re

import pytest

from govservice.cases.models import Case
from govservice.catalog import services as catalog
from govservice.catalog.definitions import NOT_ITEMS
from govservice.extensions import db

from ..catalog.test_every_item import _answer
from .test_console import _call, _take

COUNTER_ITEMS = sorted(p.stem for p in catalog.ITEMS_DIR.glob("*.toml") if p.name not in NOT_ITEMS
                       and "audience = \"enterprise\"" not in p.read_text(encoding="utf-8"))


@pytest.mark.parametrize("code", COUNTER_ITEMS)
def test_the_clerk_files_the_item_for_a_walk_in(app, client, login, clock, code):
    _take(app.test_client())
    login(client, "赵敏")
    ticket = _call(client)
    client.post(f"{ticket}/identify", data={"id_number": "440106199507200025"})     # 李娜, in the registry
    page = client.get(f"{ticket}/apply/{code}").get_data(as_text=True)
    readonly = {a or b for a, b in re.findall(
        r'<(?:input|textarea)[^>]*\bid="([a-z_0-9]+)"[^>]*\breadonly|<select disabled id="([a-z_0-9]+)"', page)}
    with app.app_context():
        item = catalog.current_item(code)
        answers = {spec["name"]: str(_answer(spec)) for spec in item.fields if spec["name"] not in readonly}
    key = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"', page).group(1)
    filed = client.post(f"{ticket}/apply/{code}", data=dict(answers, idempotency_key=key),
                        content_type="multipart/form-data")
    assert filed.status_code == 302, re.findall(r'class="error"[^>]*>([^<]+)', filed.get_data(as_text=True))
    with app.app_context():
        case = db.session.execute(db.select(Case)).scalar_one()
        assert case.channel == "window" and case.applicant.name == "李娜" and case.item.code == code
        assert all(case.form_data.get(name) for name in readonly)      # the registry's values were kept
