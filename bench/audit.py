"""Benchmark of the audit log: appending from concurrent requests, sealing, verifying.

    .venv/bin/python bench/audit.py [--seconds 2] [--threads 8] [--entries 20000]

Meant for PostgreSQL (DATABASE_URL=postgresql+psycopg://...: a scratch database on its server,
see bench/harness.py); on the SQLite default the thread figures only
show SQLite's one writer at a time. Prints:
  * appends per second (one audit entry and a commit per transaction, as an audited request
    makes) with 1 and with N threads: the log as it is (a plain INSERT), and the design it
    replaced emulated on a scratch table (every append locks one head row FOR UPDATE until its
    commit), so the head lock's serialisation shows beside it;
  * sealing throughput (entries per second into the tree, with a signed checkpoint per batch of
    AUDIT_SEAL_BATCH) over --entries unsealed entries;
  * `audit verify` throughput over the whole sealed log.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import scratch_database  # noqa: E402


def appends_per_second(app, threads: int, seconds: float, head_lock: bool) -> float:
    from sqlalchemy import text

    from govservice.audit import services as audit
    from govservice.core.extensions import db

    barrier = threading.Barrier(threads + 1)
    stop = threading.Event()
    counts = [0] * threads
    errors = []

    def run(t):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                n = 0
                while not stop.is_set():
                    if head_lock:  # the replaced design: one row locked by every append until commit
                        db.session.execute(text("SELECT seq FROM bench_audit_head WHERE id = 1 FOR UPDATE"))
                        db.session.execute(text("UPDATE bench_audit_head SET seq = seq + 1 WHERE id = 1"))
                    audit.record("bench.append", subject=f"bench:{t}:{n}", detail={"thread": t, "n": n})
                    db.session.commit()
                    n += 1
                counts[t] = n
            except Exception as exc:
                errors.append(repr(exc))
            finally:
                db.session.remove()

    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    barrier.wait(timeout=30)
    started = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for w in workers:
        w.join(timeout=60)
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(errors[0])
    return sum(counts) / elapsed


def bulk_append(app, n: int) -> None:
    from sqlalchemy import insert

    from govservice.audit.models import AuditEntry
    from govservice.core.extensions import db
    from govservice.core.models_base import utcnow

    with app.app_context():
        at = utcnow()
        for start in range(0, n, 10_000):
            rows = [
                {
                    "at": at,
                    "action": "bench.bulk",
                    "subject": f"bench:{i}",
                    "purpose": "benchmark",
                    "detail": {"i": i, "channel": "bench"},
                }
                for i in range(start, min(n, start + 10_000))
            ]
            db.session.execute(insert(AuditEntry), rows)
            db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0, help="per append measurement")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--entries", type=int, default=20_000, help="unsealed entries to seal and verify")
    args = parser.parse_args()
    instance = tempfile.mkdtemp(prefix="bench-audit-")
    try:
        from sqlalchemy import text

        from govservice import create_app
        from govservice.app import migrate
        from govservice.audit import sealer
        from govservice.audit import services as audit
        from govservice.core.extensions import db

        url = scratch_database(instance)
        app = create_app(
            {
                "INSTANCE_DIR": instance,
                "SQLALCHEMY_DATABASE_URI": url,
                "PUBLIC_URL": "http://localhost",
                "AUDIT_SEALER": "off",
                "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": args.threads + 2, "max_overflow": 4},
            }
        )
        with app.app_context():
            postgres = db.engine.dialect.name == "postgresql"
            migrate.upgrade()
            with db.engine.begin() as conn:
                conn.execute(text("CREATE TABLE bench_audit_head (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL)"))
                conn.execute(text("INSERT INTO bench_audit_head VALUES (1, 0)"))
            server = db.engine.dialect.name + (
                " " + db.session.execute(text("SHOW server_version")).scalar() if postgres else ""
            )
            db.session.remove()
        print(f"audit log benchmark on {server}, {os.cpu_count()} CPUs")
        if not postgres:
            print("  (SQLite: one writer at a time whatever the design; set DATABASE_URL to a PostgreSQL database)")
        if postgres:
            print("appends per second (one entry and a commit per transaction):")
            for label, locked in (("plain INSERT (now)", False), ("head row locked FOR UPDATE (before)", True)):
                one = appends_per_second(app, 1, args.seconds, locked)
                many = appends_per_second(app, args.threads, args.seconds, locked)
                print(f"  {label:38} 1 thread {one:8.0f}/s   {args.threads} threads {many:8.0f}/s   x{many / one:.1f}")
        else:
            one = appends_per_second(app, 1, args.seconds, False)
            print(f"appends per second, 1 thread: {one:.0f}/s")

        with app.app_context():
            pending = audit.lag().unsealed
        if pending < args.entries:
            bulk_append(app, args.entries - pending)
        with app.app_context():
            pending = audit.lag().unsealed
            started = time.perf_counter()
            result = sealer.seal()
            elapsed = time.perf_counter() - started
            print(
                f"sealing: {result.sealed} entries in {result.checkpoints} checkpoints (batch "
                f"{app.config['AUDIT_SEAL_BATCH']}) in {elapsed:.2f} s: {result.sealed / elapsed:,.0f} entries/s"
            )
            assert result.sealed == pending
            started = time.perf_counter()
            report = audit.verify(chunk=5000)
            elapsed = time.perf_counter() - started
            assert report.ok, report.problem
            print(
                f"verify: {report.entries} entries, {report.checkpoints} checkpoints in {elapsed:.2f} s: "
                f"{report.entries / elapsed:,.0f} entries/s"
            )
            started = time.perf_counter()
            assert sealer.seal().sealed == 0
            print(f"an idle sealer run (nothing to seal): {(time.perf_counter() - started) * 1000:.1f} ms")
            db.session.remove()
            db.engine.dispose()
    finally:
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
