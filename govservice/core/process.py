"""This process's id and its unique ids, without a system call per use.

glibc does not cache getpid(), and a system call costs tens of microseconds on the virtual
machines this platform runs on; the hot paths asked for the pid several times per request (the
Redis pool's fork check on every command, Prometheus's multiprocess values on every update, the
verification queue's entry ids) and read the kernel's random source for every request id. Both
are kept here and renewed in a forked child (gunicorn's workers, Celery's pool)."""

from __future__ import annotations

import itertools
import os

_pid = os.getpid()
_prefix = os.urandom(10).hex()
_counter = itertools.count()


def _after_fork() -> None:
    global _pid, _prefix, _counter
    _pid, _prefix, _counter = os.getpid(), os.urandom(10).hex(), itertools.count()


os.register_at_fork(after_in_child=_after_fork)


def pid() -> int:
    return _pid


def unique_id() -> str:
    """32 hex digits, unique across processes and time: 80 random bits drawn once per process,
    then a counter (uuid4() would read the kernel's random source on every call)."""
    return f"{_prefix}{next(_counter):012x}"


if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # prometheus_client's multiprocess values check for a fork on every update: let them ask here.
    # (Set before any metric exists: govservice imports this module first.)
    from prometheus_client import values

    values.ValueClass = values.MultiProcessValue(process_identifier=pid)
