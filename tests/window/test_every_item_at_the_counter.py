"""A clerk files a walk-in case for every item a person can apply for at the counter, through the
pages, with the demo logins: what the registry knows is filled in and read-only, the rest typed.
(One visit files them all: one sign-in, one number, as at a real counter.)"""

import re

from govservice.cases.models import Case
from govservice.catalog import services as catalog
from govservice.catalog.definitions import NOT_ITEMS
from govservice.core.extensions import db

from ..catalog.test_every_item import _answer
from .test_console import _call, _take

COUNTER_ITEMS = sorted(
    p.stem
    for p in catalog.ITEMS_DIR.glob("*.toml")
    if p.name not in NOT_ITEMS and 'audience = "enterprise"' not in p.read_text(encoding="utf-8")
)
READONLY = re.compile(r'<(?:input|textarea)[^>]*\bid="([a-z_0-9]+)"[^>]*\breadonly|<select disabled id="([a-z_0-9]+)"')


def test_the_clerk_files_every_counter_item_for_a_walk_in(app, client, login_as, clock):
    assert len(COUNTER_ITEMS) >= 8
    _take(app.test_client())
    login_as(client, "赵敏")
    ticket = _call(client)
    client.post(f"{ticket}/identify", data={"id_number": "440106199507200025"})  # 李娜, in the registry
    for code in COUNTER_ITEMS:
        page = client.get(f"{ticket}/apply/{code}").get_data(as_text=True)
        readonly = {a or b for a, b in READONLY.findall(page)}
        with app.app_context():
            item = catalog.current_item(code)
            answers = {spec["name"]: str(_answer(spec)) for spec in item.fields if spec["name"] not in readonly}
        key = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"', page).group(1)
        filed = client.post(
            f"{ticket}/apply/{code}", data=dict(answers, idempotency_key=key), content_type="multipart/form-data"
        )
        assert filed.status_code == 302, (code, re.findall(r'class="error"[^>]*>([^<]+)', filed.get_data(as_text=True)))
        with app.app_context():
            case = db.session.execute(db.select(Case).order_by(Case.id.desc())).scalars().first()
            assert case.channel == "window" and case.applicant.name == "李娜" and case.item.code == code
            assert all(case.form_data.get(name) for name in readonly), code  # the registry's values were kept
