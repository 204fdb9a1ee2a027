"""bench/submit_ab.py: the submission's commit leaving the session's objects as they are (2151b4d),
against expiring them and putting the case's key and number back by hand, as before."""

from sqlalchemy.orm.attributes import set_committed_value

from govservice.core import rows
from govservice.core.extensions import db

NAMES = {True: "commit(expire=False)", False: "commit() and key, number restored"}
_commit = rows.commit


def _expiring(expire: bool = True) -> None:
    from govservice.cases.models import Case

    cases = [(case, case.id, case.number) for case in db.session.identity_map.values() if isinstance(case, Case)]
    _commit(expire=True)
    for case, key, number in cases:
        set_committed_value(case, "id", key)
        set_committed_value(case, "number", number)


def setup(app) -> None:
    pass


def toggle(new: bool) -> None:
    rows.commit = _commit if new else _expiring
