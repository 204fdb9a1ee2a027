"""The mirror: values kept in the process only while the subscription hears every change."""

import os
import socket
import time

import pytest

from govservice.core.mirror import Mirror

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="the mirror subscribes to Redis (the PostgreSQL + Redis run)"
)


def _until(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.005)


@pytest.fixture
def mirror(ctx):
    """A mirror of its own on the app's Redis link (the app's stays as it is for other tests)."""
    own = Mirror(ctx.extensions["redis_link"])
    assert own.wait_live()
    yield own
    own.close()


def test_a_value_read_before_a_change_is_never_kept(mirror):
    before = mirror.seq()
    mirror.changed(["status:A"])  # a writer commits while a reader is reading
    mirror.put("status:A", "valid", before)  # the reader's (older) value
    assert mirror.get("status:A") is None
    mirror.put("status:A", "revoked", mirror.seq())
    assert mirror.get("status:A") == "revoked"


def test_a_change_announced_by_another_process_reaches_this_one(mirror):
    mirror.put("status:B", "valid", mirror.seq())
    other = mirror.link.client  # any client of the same Redis: another instance's writer
    pipe = other.pipeline(transaction=False)
    mirror.announce(pipe, ["status:B", "status:C"])
    pipe.execute()
    _until(lambda: mirror.get("status:B") is None)


def test_nothing_is_served_while_the_subscription_is_down_and_all_is_read_again_after(mirror):
    mirror.put("status:D", "valid", mirror.seq())
    assert mirror.get("status:D") == "valid"
    mirror._pubsub.connection._sock.shutdown(socket.SHUT_RDWR)  # the network breaks
    _until(lambda: not mirror.live())
    assert mirror.get("status:D") is None
    before = mirror.seq()
    _until(mirror.live)  # subscribed again (after RETRY)
    mirror.put("status:D", "valid", before)  # read while changes could go unheard: not kept
    assert mirror.get("status:D") is None
    mirror.put("status:D", "valid", mirror.seq())
    assert mirror.get("status:D") == "valid"


def test_a_forked_child_starts_with_nothing_of_its_parents(mirror, monkeypatch):
    from govservice.core import process

    mirror.put("status:E", "valid", mirror.seq())
    monkeypatch.setattr(process, "pid", lambda: -1)  # what process.pid() answers in a new child
    mirror.live()  # the child's first use: it subscribes anew (on a fast Redis it may be live at once)
    assert mirror.get("status:E") is None  # nothing of the parent's, before its subscription is up
    assert mirror.wait_live(5)
    assert mirror.get("status:E") is None  # nor after


def test_a_group_of_values_is_bounded_on_its_own(mirror):
    mirror.put("status:E", "valid", mirror.seq())
    for n in range(5):
        mirror.put(f"row:{n}", n, mirror.seq(), group="rows", limit=3)
    assert [mirror.get(f"row:{n}") for n in range(5)] == [None, None, 2, 3, 4]  # the oldest two out
    assert mirror.get("status:E") == "valid"  # the other values are not the group's to push out
    mirror.changed(["row:3"])
    mirror.put("row:5", 5, mirror.seq(), group="rows", limit=3)
    assert [mirror.get(f"row:{n}") for n in (2, 4, 5)] == [2, 4, 5]  # a forgotten one no longer counts
