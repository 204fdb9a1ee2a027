"""Online submissions with an upload, by 100 signed-in HTTP clients at once, over gunicorn.

    .venv/bin/python bench/submit_http.py [--clients 100] [--seconds 20]

Each client is a browser session signed in through the development identity provider (the
real OpenID Connect round trip), holding the apply form's CSRF token. For `--seconds` wrk
(bench/submit.lua, one connection per client) submits 个体工商户设立登记 with a small PDF as
fast as the platform answers, each submission with a new idempotency key and a new multipart
boundary; every fifth is sent again with the previous key (a retried or double-clicked submit,
possibly while the first is on its way). Then the database is asked: every case number shown
to a browser must be there (lost), and no key may have made more than one case, nor a case come
from a key never sent (doubled). Prints submissions/s and the latency of the POSTs (median,
p95). Goal: ≥ 300/s, 0 lost, 0 doubled.

Before that run, the same wrk client sends the same POSTs to `bench/hello.py`'s floor route under
the same gunicorn settings (parsed, redirected, nothing else): the rate that HTTP, Flask and the
multipart parse alone allow on this machine, and the submissions' rate as a ratio of it.

Then `--in-process` more submissions go through the app in this process (Flask's test client,
signed in the same way, same database and Redis): the SQL statements and the Redis round trips
each one makes, and the CPU it costs, figures that the neighbours of a shared machine move far
less than a rate (`--profile FILE` writes a cProfile of them; `--seconds 0` skips the HTTP run).

With REDIS_URL set the platform runs as deployed: one Celery worker with its beat runs beside
gunicorn on the same two cores and sends the queue of notices (the applicant's e-mail and SMS)
every second; without it, each is sent inline.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import requests
from harness import BIN, ROOT, Platform, free_port, gunicorn, require_wrk, server_cpu_seconds, wrk

ITEM = "scjgj-gtgsh-sldj"
FORM = {
    "business_name": "北京市朝阳区张三便利店",
    "composition": "个人经营",
    "address": "北京市朝阳区示例路8号",
    "scope": "日用百货零售",
    "capital": "5",
    "phone": "13800000001",
}
PEOPLE = ("张三", "李娜")
#: the apply page's CSRF token (the header's sign-out form carries the same one)
CSRF_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def pdf_bytes() -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "lease agreement")
    page.save()
    return buffer.getvalue()


def sign_in(base: str, name: str) -> requests.Session:
    """Through the development provider, as a browser would: choose `name` and come back."""
    from govservice.identity.devidp.chooser import choose

    browser = requests.Session()
    for _ in range(15):  # the sign-in's rate limit (120/minute an address) may hold the last run's
        start = browser.get(f"{base}/auth/login/devidp", allow_redirects=False, timeout=10)
        if start.status_code != 429:
            break
        time.sleep(5)
    done = browser.get(base + choose(start.headers["Location"], name, browser), allow_redirects=False, timeout=10)
    assert done.status_code in (302, 303), done.text
    return browser


def csrf_token(browser: requests.Session, base: str) -> str:
    form = browser.get(f"{base}/apply/{ITEM}", timeout=10)
    form.raise_for_status()
    return CSRF_TOKEN.search(form.text).group(1)


def post_fields(token: str, key: str) -> dict:
    return {**FORM, "csrf_token": token, "idempotency_key": key}


def in_process(platform, count: int, profile: str | None) -> None:
    """`count` submissions through the test client: statements, Redis round trips, CPU, each."""
    import cProfile

    import psycopg
    import redis.connection
    from sqlalchemy import event

    from govservice.core.extensions import db
    from govservice.identity.devidp.chooser import choose

    app = platform.app
    client = app.test_client()
    start = client.get("/auth/login/devidp")
    done = client.get(choose(start.headers["Location"], PEOPLE[0]))
    assert done.status_code in (302, 303), done.text
    form = client.get(f"/apply/{ITEM}")
    token = CSRF_TOKEN.search(form.text).group(1)
    pdf = pdf_bytes()

    def submit(key):
        data = {**post_fields(token, key), "material_premises": (io.BytesIO(pdf), "lease.pdf", "application/pdf")}
        answer = client.post(f"/apply/{ITEM}", data=data, content_type="multipart/form-data")
        assert answer.status_code in (302, 303) and "/cases/" in answer.headers["Location"], answer.status_code

    for _ in range(5):  # warm: the first requests fill the process's caches
        submit(uuid.uuid4().hex)
    statements, round_trips, counting_on, others = [], [0], [False], [0]
    sends = redis.connection.AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        round_trips[0] += counting_on[0]
        return sends(self, command, check_health)

    def seen(conn, cursor, statement, parameters, context, executemany):
        if counting_on[0]:
            statements.append(statement)

    def other(*_args, **_kw):  # BEGIN, COMMIT, ROLLBACK: round trips too (a busy pool pings nothing)
        others[0] += counting_on[0]

    scripts, executes = [], psycopg.ClientCursor.execute

    def script(self, query, params=None, **kw):  # core.rows: the rows kept for the commit, with the COMMIT
        if counting_on[0]:
            scripts.append(query)
        return executes(self, query, params, **kw)

    def measured(key) -> float:
        """CPU of one submission."""
        counting_on[0] = True
        if profiler:
            profiler.enable()
        cpu = time.process_time()
        submit(key)
        cpu = time.process_time() - cpu
        if profiler:
            profiler.disable()
        counting_on[0] = False
        return cpu

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    for name in ("begin", "commit", "rollback"):
        event.listen(engine, name, other)
    redis.connection.AbstractConnection.send_packed_command = counting
    psycopg.ClientCursor.execute = script
    profiler = cProfile.Profile() if profile else None
    try:
        cpu = sum(measured(uuid.uuid4().hex) for _ in range(count))
        first, first_scripts = len(statements), len(scripts)
        key = uuid.uuid4().hex
        measured(key)
        one = statements[first:]
        retried = len(statements)
        measured(key)
        again = len(statements) - retried
        database_trips, redis_trips = first + others[0], round_trips[0]
        retries = max(count // 10, 1)  # the double clicks, each on its own
        retry_cpu = sum(measured(key) for _ in range(retries)) / retries
    finally:
        event.remove(engine, "before_cursor_execute", seen)
        for name in ("begin", "commit", "rollback"):
            event.remove(engine, name, other)
        redis.connection.AbstractConnection.send_packed_command = sends
        psycopg.ClientCursor.execute = executes
    if profiler:
        profiler.dump_stats(profile)
    print(
        f"in process ({count} submissions, test client): {first / count:.1f} SQL statements and "
        f"{first_scripts / count:.1f} scripts of the rows kept for the commit, sent with the COMMIT "
        f"({database_trips / (count + 2):.1f} database round trips with BEGIN, COMMIT and ROLLBACK) and "
        f"{redis_trips / (count + 2):.1f} Redis round trips per submission, {cpu / count * 1000:.1f} ms CPU each; "
        f"a retry of the same key {again} statements, {retry_cpu * 1000:.1f} ms CPU"
    )
    for statement in one:
        print("   ", " ".join(statement.split())[:150])
    for statement in scripts[first_scripts].split(";\n") if len(scripts) > first_scripts else ():
        print("    script:", " ".join(statement.split())[:142])


def drive(base: str, sessions: list, seconds: float) -> dict:
    """wrk (bench/submit.lua) with one connection per client, as an operator would load it: a
    client in C costs the two cores far less than the platform it loads (a Python client took
    several ms of CPU per POST from the same cores). Returns the keys sent, the case numbers
    acknowledged, the answers that were not, the latency (median, p95) and the time taken."""
    folder = tempfile.mkdtemp(prefix="govservice-submit-")
    with open(f"{folder}/sessions", "w") as out:
        for browser, token in sessions:
            out.write("; ".join(f"{c.name}={c.value}" for c in browser.cookies) + "\t" + token + "\n")
    with open(f"{folder}/lease.pdf", "wb") as out:
        out.write(pdf_bytes())
    env = {
        "BENCH_SESSIONS": f"{folder}/sessions",
        "BENCH_PDF": f"{folder}/lease.pdf",
        "BENCH_PATH": f"/apply/{ITEM}",
        "BENCH_RUN": uuid.uuid4().hex[:8],
        "BENCH_THREADS": "2",
        "BENCH_OUT": f"{folder}/result",
    }
    started = time.perf_counter()
    script = str(ROOT / "bench" / "submit.lua")
    run = wrk(base, seconds=seconds, connections=len(sessions), script=script, extra_env=env)
    elapsed = time.perf_counter() - started
    summary = re.search(
        r"bench: (\d+) answers, (\d+) not acknowledged; latency p50 (\d+) ms, p95 (\d+) ms",
        run["output"],
    )
    with open(f"{folder}/result.sent") as sent, open(f"{folder}/result.acked") as acked:
        results = {
            "sent": set(sent.read().split()),
            "acked": set(acked.read().split()),
            "answers": int(summary.group(1)),
            "failed": int(summary.group(2)) + run["socket_errors"],
            "median": int(summary.group(3)),
            "p95": int(summary.group(4)),
        }
    shutil.rmtree(folder)
    return results, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--in-process", type=int, default=200)
    parser.add_argument("--profile", metavar="FILE", help="cProfile the in-process submissions into FILE")
    args = parser.parse_args()
    if args.seconds > 0:
        require_wrk()

    idp_port, app_port = free_port(), free_port()
    # the run's own queue: jobs a killed worker left from an earlier run are not this run's work
    queue = f"govservice-bench-{uuid.uuid4().hex[:8]}"
    jobs = {"CELERY_BROKER_URL": os.environ["REDIS_URL"], "CELERY_QUEUE": queue} if os.environ.get("REDIS_URL") else {}
    platform = Platform(DEV_IDP_URL=f"http://127.0.0.1:{idp_port}", PUBLIC_URL=f"http://127.0.0.1:{app_port}", **jobs)
    worker = (
        subprocess.Popen(
            [
                str(BIN / "celery"),
                "-A",
                "govservice.app.worker",
                "worker",
                "--concurrency",
                "1",
                "--loglevel",
                "warning",
                "--without-gossip",
                "--without-mingle",
                "--beat",  # its timers: the queue of notices, sent every second
                "--schedule",
                f"{platform.folder}/beat-schedule",
            ],
            cwd=ROOT,
            env=platform.env,
            start_new_session=True,
        )
        if jobs
        else None
    )
    from govservice.identity.devidp import create_idp_app, serve_in_thread

    server, _thread = serve_in_thread(
        create_idp_app(f"http://127.0.0.1:{idp_port}", platform.folder), "127.0.0.1", idp_port
    )
    base = f"http://127.0.0.1:{app_port}"
    with platform.app.app_context():  # the demo's own cases are not the run's
        from govservice.cases.models import Case
        from govservice.core.extensions import db

        demo_cases = db.session.execute(db.select(db.func.max(Case.id))).scalar() or 0
    try:
        if args.seconds > 0:
            with gunicorn("app:app", platform.env, app_port, ready_path="/healthz") as master:
                started = time.perf_counter()
                sessions = []
                for i in range(args.clients):
                    browser = sign_in(base, PEOPLE[i % len(PEOPLE)])
                    sessions.append((browser, csrf_token(browser, base)))
                print(
                    f"{args.clients} clients signed in through the development provider in "
                    f"{time.perf_counter() - started:.1f} s"
                )
                floor_rate, floor_line = floor(platform, sessions, args.seconds)  # first: nothing queued yet
                cpu_before = server_cpu_seconds(master)
                worker_before = server_cpu_seconds(worker) if worker else 0.0
                database_before = database_cpu_seconds(platform)
                results, elapsed = drive(base, sessions, args.seconds)
                server_cpu = server_cpu_seconds(master) - cpu_before
                worker_cpu = (server_cpu_seconds(worker) - worker_before) if worker else 0.0
                database_cpu = database_cpu_seconds(platform, database_before)
            report(platform, demo_cases, results, elapsed, args.clients, jobs, server_cpu, worker_cpu, database_cpu)
            print(f"{floor_line}; submissions ÷ floor {len(results['acked']) / elapsed / floor_rate:.2f}")
        if args.in_process:
            in_process(platform, args.in_process, args.profile)
    finally:  # a run that fails (a sign-in refused, gunicorn not starting) leaves no worker behind
        server.shutdown()
        if worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
            import redis

            broker = redis.Redis.from_url(os.environ["REDIS_URL"])
            left = list(broker.scan_iter(f"{queue}*"))  # what the worker had not run (and its priorities)
            if left:
                broker.delete(*left)
    platform.close()


def floor(platform, sessions, seconds: float) -> tuple[float, str]:
    """The same wrk client and POSTs against bench/hello.py's floor route under the same gunicorn
    settings, while the platform's gunicorn waits: what HTTP, Flask and the multipart parse alone
    cost on this machine. (POSTs a second, the line to print)"""
    port = free_port()
    with gunicorn("bench.hello:app", platform.env, port) as master:
        cpu_before = server_cpu_seconds(master)
        results, elapsed = drive(f"http://127.0.0.1:{port}", sessions, seconds)
        cpu = server_cpu_seconds(master) - cpu_before
    rate = (results["answers"] - results["failed"]) / elapsed  # redirects (its numbers are not unique)
    return rate, (
        f"the floor (bench/hello.py: the same POSTs parsed and redirected, nothing else): {rate:.0f}/s, "
        f"gunicorn {cpu / results['answers'] * 1000:.1f} ms CPU per POST"
    )


def database_cpu_seconds(platform, before: dict | None = None):
    """CPU of the PostgreSQL backends serving the scratch database: {pid: seconds} now, or, given
    `before`, the seconds used since (backends that ended meanwhile are not counted)."""
    if not platform.database_url.startswith("postgresql"):
        return {} if before is None else 0.0
    from govservice.core.extensions import db

    with platform.app.app_context():
        pids = db.session.execute(
            db.text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        ).scalars()
        db.session.rollback()
    tick = os.sysconf("SC_CLK_TCK")
    now = {}
    for pid in pids:
        try:
            text = open(f"/proc/{pid}/stat").read()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        now[pid] = (int(fields[11]) + int(fields[12])) / tick
    if before is None:
        return now
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in now.items())


def report(platform, demo_cases, results, elapsed, clients, jobs, server_cpu, worker_cpu, database_cpu) -> None:
    from govservice.cases.models import Case
    from govservice.core.extensions import db

    with platform.app.app_context():
        rows = db.session.execute(
            db.select(Case.idempotency_key, db.func.count(Case.id))
            .where(Case.id > demo_cases)
            .group_by(Case.idempotency_key)
        ).all()
        numbers = db.session.execute(db.select(Case.number).where(Case.id > demo_cases)).all()
        db.session.rollback()
    in_db = {key: n for key, n in rows}
    numbers = {number for (number,) in numbers}
    lost = len(results["acked"] - numbers)  # a case number shown to a browser that is not in the database
    doubled = sum(n - 1 for n in in_db.values() if n > 1) + len(set(in_db) - results["sent"])
    print(
        f"submissions ({platform.database_url.split(':', 1)[0]}, "
        f"{'Redis + a Celery worker' if jobs else 'no Redis, jobs inline'}"
        f", {clients} clients, {elapsed:.1f} s): {len(in_db) / elapsed:.0f}/s stored "
        f"({len(results['acked'])} case numbers acknowledged, {results['failed']} answers not, "
        f"{results['answers']} POSTs)"
    )
    print(f"  POST latency median {results['median']} ms, p95 {results['p95']} ms")
    posts = results["answers"]
    print(
        f"  gunicorn CPU {server_cpu / posts * 1000:.1f} ms per POST "
        f"({server_cpu / elapsed * 100:.0f} % of one core over the run); PostgreSQL "
        f"{database_cpu / posts * 1000:.1f} ms; the Celery worker {worker_cpu / posts * 1000:.1f} ms"
    )
    print(f"submissions: {len(in_db) / elapsed:.0f}/s, lost {lost}, doubled {doubled} (goal ≥ 300/s, 0, 0)")


if __name__ == "__main__":
    main()
