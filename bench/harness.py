"""What the HTTP benchmarks share: a scratch platform (database, instance folder, demo data), gunicorn
processes under the project's gunicorn.conf.py, and wrk runs with their figures read back.

The scratch database is never the one in DATABASE_URL itself: on PostgreSQL a database named
`govservice_bench` (or `BENCH_DATABASE`, for runs side by side on one server) is made (or emptied) on
the same server, so a benchmark cannot wipe real data.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
UNLIMITED = "100000000/minute"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scratch_database(folder: str) -> str:
    """A SQLAlchemy URL of an empty database for the benchmark (see the module docstring)."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{folder}/bench.sqlite"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = os.environ.get("BENCH_DATABASE", "govservice_bench")
    if name == base.database:
        sys.exit(f"bench: the scratch database {name!r} would be DATABASE_URL's own: name another (BENCH_DATABASE)")
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).first():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    bench = base.set(database=name)
    engine = create_engine(bench)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return bench.render_as_string(hide_password=False)


class Platform:
    """A migrated scratch platform with the demo's base data, and the environment to serve it."""

    def __init__(self, **settings: str):
        self.folder = tempfile.mkdtemp(prefix="govservice-bench-")
        self.database_url = scratch_database(self.folder)
        self.env = dict(
            os.environ,
            GOVSERVICE_INSTANCE=self.folder,
            DATABASE_URL=self.database_url,
            VERIFY_PAGE_RATE_LIMIT=UNLIMITED,
            PARTNER_RATE_LIMIT=UNLIMITED,
            PARTNER_TOKEN_RATE_LIMIT=UNLIMITED,
            GUNICORN_LOGLEVEL="error",
            # its own keys in a shared Redis: no other run's queue or snapshots
            SESSION_KEY_PREFIX=f"govservice-bench-{uuid.uuid4().hex[:8]}:",
            **settings,
        )
        os.environ.update(
            GOVSERVICE_INSTANCE=self.folder,
            DATABASE_URL=self.database_url,
            SESSION_KEY_PREFIX=self.env["SESSION_KEY_PREFIX"],
            **settings,
        )
        from govservice import create_app
        from govservice.app import demo, migrate

        self.app = create_app({"RATELIMIT_ENABLED": False})
        with self.app.app_context():
            migrate.upgrade()
            demo.load(certificates=False)

    def issue_certificate(self):
        """A signed 营业执照 held by the demo's 张三 (call inside an app or request context): the
        example the tests issue too (``certificates.samples``)."""
        from govservice.certificates import samples, services
        from govservice.certificates.demo import _person

        return services.issue("yyzz", _person(*samples.HOLDERS["yyzz"]), samples.SAMPLES["yyzz"])

    def close(self) -> None:
        from govservice.core.extensions import db

        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def gunicorn(target: str, env: dict, port: int, ready_path: str = "/"):
    """`gunicorn -c gunicorn.conf.py target` on 127.0.0.1:port until the block ends."""
    env = dict(env, GUNICORN_BIND=f"127.0.0.1:{port}")
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), target], cwd=ROOT, env=env, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}{ready_path}", timeout=2).status_code < 500:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn {target} did not start")
            time.sleep(0.2)
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def worker_memory_mb(master: subprocess.Popen) -> list[tuple[float, float]]:
    """(RSS, PSS) of each gunicorn worker of `master`, in MB. PSS divides the pages the workers
    share with the preloading master among them: what one more worker costs."""
    sizes = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            if not re.search(rf"^PPid:\s+{master.pid}$", text, re.M):
                continue
            rollup = (status.parent / "smaps_rollup").read_text()
        except OSError:
            continue
        rss = int(re.search(r"^VmRSS:\s+(\d+)", text, re.M).group(1))
        pss = int(re.search(r"^Pss:\s+(\d+)", rollup, re.M).group(1))
        sizes.append((rss / 1024, pss / 1024))
    return sorted(sizes)


def server_cpu_seconds(master: subprocess.Popen) -> float:
    """CPU time (user + system) that gunicorn `master` and its workers have used so far, those
    that ended included (a recycled worker's time is added to its master's once it is reaped)."""
    tick = os.sysconf("SC_CLK_TCK")

    def fields(pid):
        try:
            text = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        return text[text.rindex(")") + 2 :].split()  # after "pid (comm) ": state is field 3

    total = 0
    own = fields(master.pid)
    if own is not None:
        total += sum(int(v) for v in own[11:15])  # utime, stime, cutime, cstime
    for stat in Path("/proc").glob("[0-9]*/stat"):
        child = fields(stat.parent.name)
        if child is not None and child[1] == str(master.pid):
            total += int(child[11]) + int(child[12])
    return total / tick


_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
_TOTAL = re.compile(r"(\d+) requests in")
_ERRORS = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def wrk(
    url: str, *, seconds: float, connections: int, script: str | None = None, extra_env: dict | None = None
) -> dict:
    """One wrk run; requests/s, non-2xx/3xx answers, socket errors, and its full output."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "10s"]
    if script:
        command += ["-s", script]
    result = subprocess.run(
        command + [url], capture_output=True, text=True, check=True, env=dict(os.environ, **(extra_env or {}))
    )
    out = result.stdout
    errors = _ERRORS.search(out)
    sockets = _SOCKET.search(out)
    return {
        "rate": float(_RATE.search(out).group(1)),
        "requests": int(_TOTAL.search(out).group(1)),
        "non2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": sum(map(int, sockets.groups())) if sockets else 0,
        "output": out,
    }


def alternate(runs: dict, rounds: int) -> dict:
    """Run each named callable once per round, in turn (A, B, A, B, ...); the median of each."""
    results = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            results[name].append(run())
    return {name: statistics.median(values) for name, values in results.items()}, results


def require_wrk() -> None:
    if shutil.which("wrk") is None:
        sys.exit("bench: wrk is needed (Debian: apt-get install wrk)")
