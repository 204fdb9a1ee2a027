"""What a web process owes Redis after answering a verification from memory: the log entry and
the rate-limit hit, sent by one thread in batches instead of one round trip per request.

* **Log entries** are appended to a spool file of the process in the instance folder (one
  `write`, no round trip) and to a list in memory. Every `OUTBOX_INTERVAL` seconds the thread
  pushes the list onto the verification queue in one RPUSH, then empties the spool file (or,
  once it is `SPOOL_ROTATE` long, starts a new one and deletes the old). A process that dies
  before its entries are safe (killed,
  out of memory) leaves its spool behind, with an exclusive `flock` no longer held: the next
  process of the platform on that host to start its outbox replays it onto the queue. Entries
  carry their unique id and the drainer inserts with ON CONFLICT DO NOTHING, so a spool replayed
  after its entries were pushed lands once. If Redis does not take a batch, the thread writes it
  into the database directly (as without Redis) and the spool goes only when one of the two has it.
* **Rate-limit hits** are counted in the process against the fixed window's total as Redis last
  told it, and sent with the next push (INCRBY of the window's counter, which answers the new
  total). A process alone is limited exactly; together, processes may let through at most what
  they admit in one interval before hearing of the others' hits.

`push()` sends what is pending at once: `verification.flush()` calls it first, as does the
process on its way out (atexit).
"""

from __future__ import annotations

import atexit
import fcntl
import glob
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable

from flask import Flask, current_app

from ..core import process

log = logging.getLogger(__name__)

SPOOL_ROTATE = 256 * 1024  # bytes: a spool file longer than this is replaced at the next push


class Outbox:
    def __init__(self, app: Flask, link, queue: str, write: Callable[[list[dict]], None]):
        self.app = app
        self.link = link
        self.queue = queue
        self.write = write  # inserts entries into the database and commits (verification's)
        self.interval = app.config.get("OUTBOX_INTERVAL", 0.02)
        self.folder = os.path.join(app.config.get("INSTANCE_DIR") or app.instance_path, "spool")
        self._lock = threading.Lock()  # the request threads' appends against the pusher's swap
        self._send = threading.Lock()  # one push at a time (the thread, flush(), atexit)
        self._entries: list[str] = []
        self._hits: dict[str, list] = {}  # Redis key -> [unsent, total Redis told, period, window end]
        self._spool: int | None = None  # fd of the spool file being written
        # (path, fd) of the spool files whose entries are not in Redis or the database yet: each
        # kept open, and so locked, until then (the last is the one being written)
        self._spooled: list[tuple[str, int]] = []
        self._written = 0  # bytes written to the spool file being written
        self._counter = 0
        self._spool_error_at = -1e9
        self._name = uuid.uuid4().hex[:8]  # several apps of one process (tests) have their own files
        self._pid: int | None = None

    # --- the request side

    def add(self, line: str) -> None:
        """Owe the queue this log entry (JSON, complete: with its certificate and answer)."""
        self._ensure()
        with self._lock:
            try:
                if self._spool is None:
                    self._spool = self._open_spool()
                self._written += os.write(self._spool, line.encode() + b"\n")
            except OSError as exc:  # the answer still goes out; the entry is kept in memory only
                self._spool_failed(exc)
            self._entries.append(line)

    def hit(self, key: str, amount: int, period: int, now: float) -> int:
        """Count one hit on the window counter `key` (Redis); 0, or the seconds to wait when over."""
        self._ensure()
        with self._lock:
            state = self._hits.get(key)
            if state is None:
                state = self._hits[key] = [0, 0, period, (now // period + 1) * period]
            if state[0] + state[1] >= amount:
                return max(1, int(state[3] - now) + 1)
            state[0] += 1
            return 0

    def pending(self) -> int:
        return len(self._entries)

    def close(self) -> None:
        """Send what is owed and remove the spool (the process is ending)."""
        self.push()
        if not self._entries:  # else neither Redis nor the database took them: the spool keeps them
            self._drop_spool()

    def discard(self) -> None:
        """Drop what is owed (tests: the rows it names were rolled back)."""
        with self._lock:
            self._entries, self._hits = [], {}
        self._drop_spool()

    def _drop_spool(self) -> None:
        with self._lock:
            self._spool, self._written = None, 0
            spooled, self._spooled = self._spooled, []
        self._remove(spooled)

    # --- the pusher

    def push(self) -> None:
        """Send the pending entries and hits (one pipeline); on failure keep them, or write the
        entries into the database."""
        with self._send:
            now = time.time()
            with self._lock:
                entries, self._entries = self._entries, []
                written = self._written
                # The files these entries were written to stay, locked, until the entries are safe;
                # then they are removed, but for the file being written, which is emptied if no
                # entry came meanwhile, and else holds sent entries before the unsent (a replay
                # lands each once), until it is SPOOL_ROTATE bytes long and the next push starts
                # a new one (opened here, not in a request): no file made and removed every push.
                spooled = []
                if entries:
                    current = self._spooled[-1:] if self._spool is not None else []
                    spooled, self._spooled = self._spooled[: len(self._spooled) - len(current)], current
                    if current and written >= SPOOL_ROTATE:
                        spooled += current
                        self._spooled, self._written = [], 0
                        try:
                            self._spool = self._open_spool()
                        except OSError as exc:
                            self._spool = None
                            self._spool_failed(exc)
                hits = [(key, state[0], state[2]) for key, state in self._hits.items() if state[0]]
                for key, state in list(self._hits.items()):
                    state[0] = 0
                    if state[3] < now:  # its window is over
                        del self._hits[key]
            if not entries and not hits:
                return
            if not self._send_to_redis(entries, hits):
                if entries and not self._write_to_database(entries):
                    with self._lock:  # try again next round
                        self._entries[:0] = entries
                        self._spooled[:0] = spooled
                    return
            self._remove(spooled)
            with self._lock:
                if entries and self._spool is not None and self._written == written and written < SPOOL_ROTATE:
                    os.ftruncate(self._spool, 0)  # everything it holds is safe (O_APPEND writes at the end)
                    self._written = 0

    def _send_to_redis(self, entries: list[str], hits: list) -> bool:
        def send(r):
            pipe = r.pipeline(transaction=False)
            if entries:
                pipe.rpush(self.queue, *entries)
            for key, count, period in hits:
                pipe.incrby(key, count)
                pipe.expire(key, period)
            return pipe.execute()

        answers = self.link.call(send)
        if answers is None:
            return False
        totals = answers[1:] if entries else answers
        with self._lock:
            for (key, _count, _period), total in zip(hits, totals[::2], strict=True):
                if key in self._hits:
                    self._hits[key][1] = int(total)
        return True

    def _write_to_database(self, lines: list[str]) -> bool:
        try:
            with self.app.app_context():
                self.write([json.loads(line) for line in lines])
            return True
        except Exception:
            log.exception("neither Redis nor the database took %d verification entries; kept", len(lines))
            return False

    # --- the spool

    def _open_spool(self) -> int:
        self._counter += 1
        path = os.path.join(self.folder, f"verifications-{process.pid()}-{self._name}-{self._counter}.jsonl")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held until closed: a live process's spool is not replayed
        self._spooled.append((path, fd))
        return fd

    def _spool_failed(self, exc: OSError) -> None:
        now = time.monotonic()
        if now - self._spool_error_at > 60:  # once a minute, not once a request
            self._spool_error_at = now
            log.error("cannot write the verification spool in %s (%s): entries wait in memory only", self.folder, exc)

    def _remove(self, spooled: list[tuple[str, int]]) -> None:
        for path, fd in spooled:
            try:
                os.unlink(path)  # before closing: no other process can take it for an orphan
            except FileNotFoundError:
                pass
            os.close(fd)

    def replay_orphans(self) -> int:
        """Push onto the queue the spools of processes that died before pushing; how many entries."""
        replayed = 0
        mine = {path for path, _fd in self._spooled}
        for path in sorted(glob.glob(os.path.join(self.folder, "verifications-*.jsonl"))):
            if path in mine:
                continue
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # its process is alive (or another one is replaying it)
                if os.fstat(fd).st_nlink == 0:
                    continue  # its owner sent its entries and removed it while this one waited
                with os.fdopen(os.dup(fd), encoding="utf-8") as spool:
                    lines = [line.rstrip("\n") for line in spool if line.strip()]
                good = [line for line in lines if _complete(line)]
                if good and not (self._send_to_redis(good, []) or self._write_to_database(good)):
                    continue
                try:
                    os.unlink(path)
                except FileNotFoundError:  # another process replayed it too: the ids keep it once
                    pass
                replayed += len(good)
            finally:
                os.close(fd)
        if replayed:
            log.warning("replayed %d verification entries left in the spool by processes that died", replayed)
        return replayed

    # --- the thread

    def _ensure(self) -> None:
        if self._pid == process.pid():
            return
        with self._lock:
            if self._pid == process.pid():
                return
            # a forked child starts empty: what the parent owed is the parent's to send
            self._pid = process.pid()
            self._entries, self._hits, self._spooled, self._spool, self._written = [], {}, [], None, 0
        os.makedirs(self.folder, mode=0o700, exist_ok=True)
        atexit.register(self.close)
        if not self.app.testing:  # tests push with flush() and replay with replay_orphans()
            threading.Thread(target=self._run, name="verification-outbox", daemon=True).start()

    def _run(self) -> None:
        pid = self._pid
        try:
            self.replay_orphans()  # here, not in the request that started the outbox
        except Exception:
            log.exception("replaying the spools of dead processes failed; the next process tries again")
        while self._pid == pid:
            time.sleep(self.interval)
            try:
                self.push()
            except Exception:  # the next round tries again; entries stay in the spool meanwhile
                log.exception("pushing verification entries failed")


def _complete(line: str) -> bool:
    """A line written whole (a process killed mid-write leaves a broken last line, never answered)."""
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def outbox() -> Outbox | None:
    return current_app.extensions.get("verification_outbox")
