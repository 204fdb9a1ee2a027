"""govservice.core.process: the pid and unique ids kept per process, renewed in a forked child."""

import os

from govservice.core import process


def _in_child(fn) -> bytes:
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(write, fn().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    with os.fdopen(read, "rb") as answer:
        return answer.read()


def test_pid_is_the_process_own_and_follows_a_fork():
    assert process.pid() == os.getpid()
    child_pid, child_id = _in_child(lambda: f"{process.pid()} {os.getpid()} {process.unique_id()}").split(b" ", 1)
    assert child_pid != str(os.getpid()).encode()
    assert child_id.split()[0] == child_pid  # the child's kept pid is its own
    # a child draws new random bits: its ids share no prefix with the parent's
    assert child_id.split()[1][:20] != process.unique_id()[:20].encode()


def test_unique_ids_do_not_repeat():
    ids = {process.unique_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
