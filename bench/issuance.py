"""Benchmark of signed-certificate issuance with 1 and with 2 processes.

    .venv/bin/python bench/issuance.py [--certificates 60] [--pairs 3]
    DATABASE_URL=postgresql+psycopg://... .venv/bin/python bench/issuance.py

Each process is its own app (its own fonts, keys, signer, database connections), as a Celery
worker or a gunicorn worker would be. One issuance is the whole of ``services.issue``: draw
the serial, render the PDF with its QR code, PAdES-sign it, sign the two tokens, store the
blob, insert the certificate, its event and the audit entry, commit.

Runs alternate (1 process, 2 processes, 1, 2, ...) so that a machine busy with something else
weighs on both alike; the medians are quoted. Without DATABASE_URL it runs on a throw-away
SQLite file; with it, on that database (rows are added to it, nothing is dropped).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

GOAL_RATE, GOAL_RATIO = 40.0, 1.8
SPIN_PER_UNIT = 100_000


def _config(folder: str) -> dict:
    return {
        "INSTANCE_DIR": folder,
        "BLOB_DIR": f"{folder}/blobs",
        "PUBLIC_URL": "http://127.0.0.1:5000",
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or f"sqlite:///{folder}/bench.sqlite",
        "RATELIMIT_ENABLED": False,
    }


def worker(folder: str, conn) -> None:
    """One issuing process: its own app; issues what it is told, when it is told."""
    os.environ["GOVSERVICE_INSTANCE"] = folder
    from govservice import create_app
    from govservice.certificates import samples, services
    from govservice.core.extensions import db
    from govservice.identity.services import person_for

    app = create_app(_config(folder))
    with app.app_context():
        holder = person_for(*samples.HOLDERS["yyzz"])
        db.session.commit()
        for _ in range(2):  # warm-up: first signature, first queries
            services.issue("yyzz", holder, samples.SAMPLES["yyzz"])
        conn.send("ready")
        while (order := conn.recv()) is not None:
            count, start_at, spin = order
            time.sleep(max(0.0, start_at - time.time()))
            cpu = time.process_time()
            if spin:
                _spin(count)
            else:
                for _ in range(count):
                    services.issue("yyzz", holder, samples.SAMPLES["yyzz"])
            conn.send((time.time(), time.process_time() - cpu))
        db.session.remove()
        db.engine.dispose()


def _spin(count: int) -> int:
    """Pure CPU work, no I/O and no shared state: what 2 processes can do beside 1 here."""
    total = 0
    for i in range(count * SPIN_PER_UNIT):
        total += i * i
    return total


def prepare(folder: str) -> None:
    """Migrate, load the base data and create the keys once, before the workers start."""
    from govservice import create_app
    from govservice.app import demo, migrate
    from govservice.core.extensions import db

    app = create_app(_config(folder))
    with app.app_context():
        migrate.upgrade()
        demo.load(certificates=False)
        db.session.remove()
        db.engine.dispose()


def certificates_in_database(folder: str) -> int:
    from govservice import create_app
    from govservice.certificates.models import Certificate
    from govservice.core.extensions import db

    app = create_app(_config(folder))
    with app.app_context():
        count = db.session.execute(db.select(db.func.count(Certificate.id))).scalar_one()
        db.session.remove()
        db.engine.dispose()
        return count


def run(pipes, processes: int, total: int, spin: bool = False) -> tuple[float, float]:
    """(certificates per second, CPU seconds per certificate in the issuing processes) of
    ``processes`` workers issuing ``total`` between them (or doing as many units of _spin)."""
    start_at = time.time() + 0.2
    share = [total // processes + (1 if i < total % processes else 0) for i in range(processes)]
    for pipe, count in zip(pipes, share):
        pipe.send((count, start_at, spin))
    answers = [_answer(pipe) for pipe in pipes[:processes]]
    return total / (max(end for end, _ in answers) - start_at), sum(cpu for _, cpu in answers) / total


def _answer(pipe, timeout: float = 120.0):
    if not pipe.poll(timeout):
        sys.exit("an issuing process stopped answering (see its error above)")
    return pipe.recv()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certificates", type=int, default=60, help="certificates issued per run")
    parser.add_argument("--pairs", type=int, default=3, help="pairs of runs (1 process, then 2)")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="govservice-bench-issuance-")
    os.environ["GOVSERVICE_INSTANCE"] = folder
    prepare(folder)
    before = certificates_in_database(folder)
    context = multiprocessing.get_context("spawn")  # each worker a fresh interpreter with its own app
    pipes, workers = [], []
    for _ in range(2):
        parent, child = context.Pipe()
        process = context.Process(target=worker, args=(folder, child))
        process.start()
        pipes.append(parent)
        workers.append(process)
    for pipe in pipes:
        assert _answer(pipe) == "ready"

    database = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgresql") else "sqlite"
    print(
        f"database: {database}; {args.certificates} certificates per run; load average "
        f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )
    rates, cpu, spins = {1: [], 2: []}, [], {1: [], 2: []}
    for pair in range(args.pairs):
        for processes in (1, 2):
            spins[processes].append(run(pipes, processes, 80, spin=True)[0])
            rate, cpu_each = run(pipes, processes, args.certificates)
            rates[processes].append(rate)
            cpu.append(cpu_each)
            print(
                f"  run {2 * pair + processes}: {processes} process{'es' if processes > 1 else ''} {rate:6.1f}/s "
                f"({1000 * cpu_each:.1f} ms CPU per certificate in the issuing process)"
            )
    for pipe in pipes:
        pipe.send(None)
    for process in workers:
        process.join()

    issued = certificates_in_database(folder) - before
    expected = 2 * args.pairs * args.certificates + 2 * 2  # runs plus each worker's warm-up
    one, two = statistics.median(rates[1]), statistics.median(rates[2])
    print(
        f"certificates in the database: {issued} new of {expected} issued; median CPU per certificate "
        f"{1000 * statistics.median(cpu):.1f} ms in the issuing process (the database server's comes on top)"
    )
    ceiling = statistics.median(spins[2]) / statistics.median(spins[1])
    print(
        f"the machine now: a pure-CPU loop in 2 processes does {ceiling:.2f}× what it does in 1 "
        f"(the ceiling for any 2÷1 ratio measured here; 2.0 on 2 idle cores)"
    )
    print(
        f"issuance: 1 process {one:.1f}/s, 2 processes {two:.1f}/s, ratio {two / one:.2f} "
        f"(goal ≥ {GOAL_RATE:.0f}/s, ≥ {GOAL_RATIO})"
    )
    shutil.rmtree(folder, ignore_errors=True)
    if issued != expected:
        sys.exit("certificates lost or doubled")


if __name__ == "__main__":
    main()
