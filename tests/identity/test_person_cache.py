"""The signed-in person with their roles, kept in the process while Redis announces every change:
a role taken away is gone at the next request, in every process."""

import os
import time

import pytest

from govservice.core.extensions import db
from govservice.identity import services
from govservice.identity.models import StaffAssignment
from govservice.identity.people import PERSON_KEY

from ..factories import person, statements

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="kept only where Redis announces changes (the PostgreSQL + Redis run)"
)


def test_the_signed_in_person_is_read_once_and_served_with_their_roles(ctx):
    zhao = person("赵敏")
    services.load_user(str(zhao.id))
    db.session.expunge_all()  # the next request's session
    with statements(own_savepoints=False) as sent:
        again = services.load_user(str(zhao.id))
        assert again.name == "赵敏" and "clerk" in again.roles()
    assert sent == []
    assert again in db.session


def test_a_role_taken_away_is_gone_at_the_next_request(ctx):
    zhao = person("赵敏").id
    assert "clerk" in services.load_user(str(zhao)).roles()
    for role in db.session.execute(db.select(StaffAssignment).where(StaffAssignment.person_id == zhao)).scalars():
        db.session.delete(role)
    db.session.commit()
    db.session.expunge_all()
    assert services.load_user(str(zhao)).roles() == set()


def test_a_change_announced_by_another_instance_is_read_again(ctx):
    zhao = person("赵敏")
    services.load_user(str(zhao.id))
    copy = ctx.extensions["mirror"]
    pipe = copy.link.client.pipeline(transaction=False)
    copy.announce(pipe, [PERSON_KEY + str(zhao.id)])  # an administrator took a role away elsewhere
    pipe.execute()
    deadline = time.monotonic() + 5
    while copy.get(PERSON_KEY + str(zhao.id)) is not None:
        assert time.monotonic() < deadline, "the announcement was not heard"
        time.sleep(0.005)
    db.session.expunge_all()
    with statements(own_savepoints=False) as sent:
        services.load_user(str(zhao.id))
    assert len(sent) == 1
