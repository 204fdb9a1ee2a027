"""The current version of each item, kept in the process while Redis announces every change."""

import os
import time

import pytest

from govservice.catalog import itemcache
from govservice.catalog import services as catalog
from govservice.core.extensions import db

from ..factories import statements

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="kept only where Redis announces changes (the PostgreSQL + Redis run)"
)
ITEM = "scjgj-gtgsh-sldj"


def test_an_item_read_once_is_served_from_the_process_as_the_sessions_own(ctx):
    first = catalog.current_item(ITEM)
    db.session.expunge_all()  # the next request's session
    with statements(own_savepoints=False) as sent:
        again = catalog.current_item(ITEM)
        assert again.department.name == first.department.name and again.materials == first.materials
    assert sent == []
    assert again in db.session and again.department in db.session  # a copy of the request's own, usable as a row
    assert catalog.current_item("no-such-item") is None


def test_a_committed_change_is_read_again_at_once(ctx):
    item = catalog.current_item(ITEM)
    item.department.name = "北京市朝阳区市场监督管理局（新址）"  # its name is shown with the item
    db.session.commit()
    db.session.expunge_all()
    with statements(own_savepoints=False) as sent:
        assert catalog.current_item(ITEM).department.name == "北京市朝阳区市场监督管理局（新址）"
    assert len(sent) == 1


def test_a_change_announced_by_another_instance_is_read_again(ctx):
    catalog.current_item(ITEM)
    copy = ctx.extensions["mirror"]
    pipe = copy.link.client.pipeline(transaction=False)
    copy.announce(pipe, [itemcache.KEY + ITEM])  # another instance synced the catalogue
    pipe.execute()
    deadline = time.monotonic() + 5
    while copy.get(itemcache.KEY + ITEM) is not None:
        assert time.monotonic() < deadline, "the announcement was not heard"
        time.sleep(0.005)
    db.session.expunge_all()
    with statements(own_savepoints=False) as sent:
        catalog.current_item(ITEM)
    assert len(sent) == 1
