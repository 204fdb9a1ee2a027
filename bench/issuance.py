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

The CPU time of each issuance is also split by phase (``--phases``, on by default: a few
process_time calls per issuance): rendering, PAdES signing (with the time-stamps), the rest of
``issuance.sign`` (tokens, QR reference, blob), the rows, the listeners of
``certificate_changed`` (the holder's notice; its e-mail and SMS too when there is no broker), and
what is left (serial, department, commits). CPU time moves less than wall time on a machine
others use, which is why it is quoted beside the rates.
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
    """As a Celery worker is configured: with REDIS_URL it is the broker (then the holder's notice
    is only queued, for the beat's batched delivery, as in a deployment; nothing else is sent to
    the broker on this path), without it jobs and notices run inline (the embedded default)."""
    return {
        "INSTANCE_DIR": folder,
        "BLOB_DIR": f"{folder}/blobs",
        "PUBLIC_URL": "http://127.0.0.1:5000",
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or f"sqlite:///{folder}/bench.sqlite",
        "RATELIMIT_ENABLED": False,
        "CELERY_BROKER_URL": os.environ.get("REDIS_URL", ""),
        "CELERY_QUEUE": "govservice-bench-issuance",
    }


PHASES = ("render", "sign_pdf", "sign_other", "rows", "listeners", "other")


def _measure_phases() -> dict[str, float]:
    """CPU seconds by phase of issuance in this process, accumulated from now on (see the
    module's doc): the phases' functions wrapped, nothing else changed."""
    from govservice.certificates import issuance, pdf, services, signing
    from govservice.core import signals

    spent = dict.fromkeys(PHASES, 0.0)

    def timed(owner, name, phase):
        inner = getattr(owner, name)

        def wrapper(*args, **kwargs):
            start = time.process_time()
            try:
                return inner(*args, **kwargs)
            finally:
                spent[phase] += time.process_time() - start

        setattr(owner, name, wrapper)

    for owner, name, phase in (
        (pdf, "render_certificate_pdf", "render"),
        (signing, "sign_pdf", "sign_pdf"),
        (issuance, "sign", "sign_other"),
        (issuance, "add", "rows"),
        (signals.certificate_changed, "send", "listeners"),
        (services, "issue", "other"),
    ):
        timed(owner, name, phase)
    return spent


def _phase_split(spent: dict[str, float]) -> dict[str, float]:
    """Each phase's own time: the wrapped calls nest (issue > sign > render, sign_pdf)."""
    own = dict(spent)
    own["sign_other"] -= spent["render"] + spent["sign_pdf"]
    own["other"] -= spent["sign_other"] + spent["rows"] + spent["listeners"]
    return own


def worker(folder: str, conn, phases: bool = True) -> None:
    """One issuing process: its own app; issues what it is told, when it is told."""
    os.environ["GOVSERVICE_INSTANCE"] = folder
    from govservice import create_app
    from govservice.certificates import samples, services
    from govservice.core.extensions import db
    from govservice.identity.services import person_for

    app = create_app(_config(folder))
    spent = _measure_phases() if phases else dict.fromkeys(PHASES, 0.0)
    with app.app_context():
        holder = person_for(*samples.HOLDERS["yyzz"])
        db.session.commit()
        for _ in range(2):  # warm-up: first signature, first queries
            services.issue("yyzz", holder, samples.SAMPLES["yyzz"])
        conn.send("ready")
        while (order := conn.recv()) is not None:
            count, start_at, spin = order
            time.sleep(max(0.0, start_at - time.time()))
            before = dict(spent)
            cpu = time.process_time()
            if spin:
                _spin(count)
            else:
                for _ in range(count):
                    services.issue("yyzz", holder, samples.SAMPLES["yyzz"])
            cpu = time.process_time() - cpu
            conn.send((time.time(), cpu, {k: spent[k] - before[k] for k in PHASES}))
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


def run(pipes, processes: int, total: int, spin: bool = False) -> tuple[float, float, dict[str, float]]:
    """(certificates per second, CPU seconds per certificate in the issuing processes, the
    same by phase) of ``processes`` workers issuing ``total`` between them (or doing as many
    units of _spin)."""
    start_at = time.time() + 0.2
    share = [total // processes + (1 if i < total % processes else 0) for i in range(processes)]
    for pipe, count in zip(pipes, share):
        pipe.send((count, start_at, spin))
    answers = [_answer(pipe) for pipe in pipes[:processes]]
    phases = _phase_split({k: sum(spent[k] for _, _, spent in answers) / total for k in PHASES})
    return total / (max(end for end, _, _ in answers) - start_at), sum(cpu for _, cpu, _ in answers) / total, phases


def _answer(pipe, timeout: float = 120.0):
    if not pipe.poll(timeout):
        sys.exit("an issuing process stopped answering (see its error above)")
    return pipe.recv()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certificates", type=int, default=60, help="certificates issued per run")
    parser.add_argument("--pairs", type=int, default=3, help="pairs of runs (1 process, then 2)")
    parser.add_argument("--no-phases", dest="phases", action="store_false", help="do not split the CPU time by phase")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="govservice-bench-issuance-")
    os.environ["GOVSERVICE_INSTANCE"] = folder
    prepare(folder)
    before = certificates_in_database(folder)
    context = multiprocessing.get_context("spawn")  # each worker a fresh interpreter with its own app
    pipes, workers = [], []
    for _ in range(2):
        parent, child = context.Pipe()
        process = context.Process(target=worker, args=(folder, child, args.phases))
        process.start()
        pipes.append(parent)
        workers.append(process)
    for pipe in pipes:
        assert _answer(pipe) == "ready"

    database = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgresql") else "sqlite"
    jobs = "Redis as the broker: notices queued for the beat" if os.environ.get("REDIS_URL") else "jobs inline"
    print(
        f"database: {database}; {jobs}; {args.certificates} certificates per run; load average "
        f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )
    rates, cpu, spins, split = {1: [], 2: []}, [], {1: [], 2: []}, {k: [] for k in PHASES}
    for pair in range(args.pairs):
        for processes in (1, 2):
            spins[processes].append(run(pipes, processes, 80, spin=True)[0])
            rate, cpu_each, phases = run(pipes, processes, args.certificates)
            rates[processes].append(rate)
            cpu.append(cpu_each)
            for k in PHASES:
                split[k].append(phases[k])
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
    if args.phases:
        print(
            "  by phase (median ms CPU per certificate): "
            + ", ".join(f"{k} {1000 * statistics.median(v):.1f}" for k, v in split.items())
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
