"""Load a city's worth of cases into PostgreSQL by COPY, for the list benchmarks (issue 9).

    DATABASE_URL=postgresql+psycopg://... .venv/bin/python bench/generate.py [--cases 1000000] [--reset]

Onto a migrated database with the demo loaded (`flask --app app govservice db upgrade` and
`... demo`): applicants, cases with their review steps and events, evaluations and
rectification tasks, some certificates and their verifications, spread over the catalogue's
items (so over their departments and workflows), two years of submission dates, channels and
states the way a city's would be: old cases closed (a few still overdue), recent ones anywhere
from the window's queue to the result. Deadlines are counted on the working calendar, as
acceptance counts them. The demo citizen 张三 gets a few dozen cases and a certificate checked
many times, for 我的办件 and the wallet.

Idempotent: generated rows are marked (idempotency key `bench-...`); a run tops the marked
cases up to `--cases` (10k, then 100k, then 1M adds only the difference) and does nothing when
there are enough. `--reset` removes every generated row first.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MARK = "bench-"
DAYS = 730  # two years of submissions
SEED = 20261201
ZHANG_SAN = "110105198802150035"


def _app():
    from govservice import create_app

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        sys.exit("bench/generate.py loads PostgreSQL by COPY: set DATABASE_URL=postgresql+psycopg://...")
    return create_app({"SQLALCHEMY_DATABASE_URI": url})


def _utc(day: date, minutes: int) -> datetime:
    """A time on a Beijing working day (08:30 + minutes), in UTC."""
    return datetime(day.year, day.month, day.day, 0, 30, tzinfo=UTC) + timedelta(minutes=minutes)


class Calendar:
    """Working-day arithmetic on the same table the app counts with."""

    def __init__(self, rows):
        self.ordinal = {d: o for d, _w, _k, o in rows}
        self.working_day = {d_o: d for d, working, _k, d_o in rows if working}
        self.working = {d for d, working, _k, _o in rows if working}

    def add(self, day: date, days: int) -> date:
        return self.working_day[self.ordinal[day] + days]

    def next_working(self, day: date) -> date:
        return day if day in self.working else self.working_day[self.ordinal[day] + 1]


def reset(conn) -> None:
    with conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE gone AS SELECT id FROM cases WHERE idempotency_key LIKE %s", (MARK + "%",))
        cur.execute("CREATE TEMP TABLE gone_certs AS SELECT id FROM certificates WHERE identifier LIKE 'BENCH-%%'")
        for sql in (
            "DELETE FROM verifications WHERE certificate_id IN (SELECT id FROM gone_certs) OR verifier = 'bench'",
            "DELETE FROM certificates WHERE id IN (SELECT id FROM gone_certs)",
            "DELETE FROM rectification_tasks WHERE case_id IN (SELECT id FROM gone)",
            "DELETE FROM evaluations WHERE case_id IN (SELECT id FROM gone)",
            "DELETE FROM case_events WHERE case_id IN (SELECT id FROM gone)",
            "DELETE FROM case_steps WHERE case_id IN (SELECT id FROM gone)",
            "DELETE FROM cases WHERE id IN (SELECT id FROM gone)",
            "DELETE FROM persons WHERE id_number_hash LIKE 'bench-%%'",
            "DROP TABLE gone; DROP TABLE gone_certs",
        ):
            cur.execute(sql)
    conn.commit()


def _next_ids(cur, tables):
    out = {}
    for table in tables:
        cur.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
        out[table] = cur.fetchone()[0]
    return out


def _fix_sequences(cur, tables):
    for table in tables:
        cur.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))"
        )


def generate(app, total: int) -> None:
    from sqlalchemy import func, select

    from govservice.calendar import workdays
    from govservice.cases import workflow
    from govservice.cases.models import Case
    from govservice.catalog import services as catalog
    from govservice.core import clock, pii
    from govservice.core.extensions import db
    from govservice.identity.models import Person

    with app.app_context():
        workdays.ensure()
        have = db.session.execute(
            select(func.count()).select_from(Case).where(Case.idempotency_key.like(MARK + "%"))
        ).scalar()
        if have >= total:
            print(f"{have:,} generated cases already there (asked for {total:,}): nothing to do")
            return
        count = total - have
        today = clock.today()
        cal = Calendar(workdays.wanted(today))
        items = [i for i in catalog.list_items()]
        departments = {d.code: d.id for d in catalog.departments_by_code().values()}
        plans = {i.id: workflow.stages(i.definition, i.department.code) for i in items}
        staff = {}
        from govservice.identity.models import StaffAssignment

        for a in db.session.execute(select(StaffAssignment)).scalars():
            staff.setdefault((a.role, a.department_id), a.person_id)
            staff.setdefault((a.role, None), a.person_id)
        clerk = staff.get(("clerk", None))
        zhang = db.session.execute(
            select(Person).where(Person.id_number_hash == pii.lookup_hash(ZHANG_SAN))
        ).scalar_one_or_none()
        form = pii.encrypt_json(
            {"operator_name": "示例", "business_name": "示例经营部", "address": "北京市朝阳区示例路1号"}
        )
        name_enc, id_enc = pii.encrypt("王某某"), pii.encrypt("110105199001011234")
        region = app.config["REGION_CODE"]
        db.session.remove()

    rng = random.Random(SEED + have)
    raw = None
    with app.app_context():
        raw = db.engine.raw_connection()
    conn = raw.driver_connection
    started = time.perf_counter()
    tables = (
        "persons",
        "cases",
        "case_steps",
        "case_events",
        "evaluations",
        "rectification_tasks",
        "certificates",
        "verifications",
    )
    with conn.cursor() as cur:
        ids = _next_ids(cur, tables)
        # Applicants: about eight cases each (plus 张三's few dozen).
        people = max(1, count // 8)
        first_person = ids["persons"]
        with cur.copy(
            "COPY persons (id, id_number_hash, id_number_enc, name_enc, level_of_assurance, created_at) FROM STDIN"
        ) as copy:
            now = datetime.now(UTC)
            for n in range(people):
                copy.write_row((first_person + n, f"bench-{first_person + n}", id_enc, name_enc, 2, now))
        applicants = range(first_person, first_person + people)

        case_rows, step_rows, event_rows, evaluation_rows, task_rows, certificate_rows = [], [], [], [], [], []
        case_id, step_id, event_id = ids["cases"], ids["case_steps"], ids["case_events"]
        evaluation_id, task_id, certificate_id = ids["evaluations"], ids["rectification_tasks"], ids["certificates"]
        mine = min(40, count // 250) if zhang is not None else 0
        for n in range(count):
            item = items[rng.randrange(len(items))] if rng.random() < 0.7 else items[n % len(items)]
            age = int(rng.triangular(0, DAYS, 0))  # more recent cases than old ones
            day = today - timedelta(days=age + 1)
            submitted = _utc(day, rng.randrange(540))
            channel = "window" if rng.random() < 0.3 else "online"
            applicant = zhang.id if n < mine else applicants[rng.randrange(people)]
            r = rng.random()
            if age > 45:
                state = (
                    "completed"
                    if r < 0.90
                    else "not_accepted"
                    if r < 0.95
                    else "withdrawn"
                    if r < 0.97
                    else "in_review"
                    if r < 0.975
                    else "completed"
                )
            else:
                state = (
                    "submitted"
                    if r < 0.10
                    else "supplement_requested"
                    if r < 0.15
                    else "accepted"
                    if r < 0.30
                    else "in_review"
                    if r < 0.65
                    else "approved"
                    if r < 0.68
                    else "completed"
                    if r < 0.98
                    else "not_accepted"
                )
            accepted_at = deadline = completed_at = decided_at = paused_since = None
            decision, stage, handed_over_at = None, None, None
            working_days = on_time = None
            plan = plans[item.id]
            if state not in ("submitted", "not_accepted", "withdrawn") and not (
                state == "supplement_requested" and rng.random() < 0.5
            ):
                accepted_day = cal.next_working(day + timedelta(days=rng.randrange(3)))
                accepted_at = _utc(accepted_day, 60 + rng.randrange(400))
                deadline = cal.add(accepted_day, item.time_limit_days)
                stage = 1
            if state == "supplement_requested" and accepted_at is not None:
                paused_since = min(today, accepted_at.date() + timedelta(days=rng.randrange(5)))
            if state in ("approved", "completed"):
                used = max(1, int(rng.gauss(item.time_limit_days * 0.7, item.time_limit_days * 0.3)))
                done_day = cal.add(accepted_at.date(), used)
                if done_day >= today:  # decided, at the latest, yesterday
                    done_day = today - timedelta(days=1)
                decided_at = _utc(done_day, 420)
                decision = "deny" if rng.random() < 0.07 else "approve"
                stage = len(plan)
                if state == "completed":
                    completed_at = decided_at + timedelta(minutes=5)
                    working_days = cal.ordinal[done_day] - cal.ordinal[accepted_at.date()]
                    on_time = done_day <= deadline
                    if channel == "window" and rng.random() < 0.97:
                        handed_over_at = completed_at + timedelta(days=1)
            number = f"{region}{day:%Y%m%d}{9000000 + case_id}"
            case_rows.append(
                (
                    case_id,
                    number,
                    item.id,
                    applicant,
                    channel,
                    state,
                    2,
                    f"{MARK}{case_id}",
                    form,
                    item.department_id,
                    submitted,
                    submitted,
                    accepted_at,
                    deadline,
                    False,
                    decided_at,
                    decision,
                    completed_at,
                    stage,
                    paused_since,
                    0,
                    handed_over_at,
                    clerk if handed_over_at else None,
                    working_days,
                    on_time,
                )
            )
            event_rows.append((event_id, case_id, submitted, applicant, "submit", "draft", "submitted"))
            event_id += 1
            if accepted_at is not None:
                event_rows.append((event_id, case_id, accepted_at, clerk, "accept", "submitted", "accepted"))
                event_id += 1
                for st in plan:
                    for code in st.departments:
                        dept = departments[code]
                        if decided_at is not None:
                            status = (
                                workflow.DENIED if decision == "deny" and st.number == len(plan) else workflow.APPROVED
                            )
                        elif st.number == 1:
                            status = (
                                workflow.RETURNED
                                if state == "supplement_requested"
                                else workflow.IN_REVIEW
                                if state == "in_review" and rng.random() < 0.6
                                else workflow.PENDING
                            )
                        else:
                            status = workflow.WAITING
                        officer = staff.get(("officer", dept))
                        claimed = status in (workflow.IN_REVIEW, workflow.APPROVED, workflow.DENIED) and officer
                        step_rows.append(
                            (
                                step_id,
                                case_id,
                                st.number,
                                st.mode,
                                dept,
                                status,
                                2,
                                officer if claimed else None,
                                accepted_at if claimed else None,
                                officer if decided_at and claimed else None,
                                decided_at if claimed else None,
                            )
                        )
                        step_id += 1
            if decided_at is not None:
                event_rows.append((event_id, case_id, decided_at, None, "decide", "in_review", state))
                event_id += 1
            if completed_at is not None:
                event_rows.append((event_id, case_id, completed_at, None, "complete", "approved", "completed"))
                event_id += 1
                if rng.random() < 0.3:
                    rating = rng.choices((5, 4, 3, 2, 1), (60, 20, 10, 6, 4))[0]
                    evaluation_rows.append(
                        (
                            evaluation_id,
                            case_id,
                            item.department_id,
                            rating,
                            "很满意" if rating > 2 else "等待时间太长",
                            channel,
                            clerk if channel == "window" else applicant,
                            completed_at + timedelta(hours=2),
                        )
                    )
                    if rating <= 2:
                        task_rows.append(
                            (
                                task_id,
                                evaluation_id,
                                case_id,
                                item.department_id,
                                completed_at + timedelta(hours=2),
                                cal.add(completed_at.date(), 5),
                                "answered" if rng.random() < 0.8 else "open",
                                1,
                            )
                        )
                        task_id += 1
                    evaluation_id += 1
                if decision == "approve" and item.result_type and rng.random() < 0.5:
                    certificate_rows.append(
                        (
                            certificate_id,
                            f"BENCH-{certificate_id}",
                            item.result_type,
                            applicant,
                            case_id,
                            item.department_id,
                            form,
                            "valid",
                            completed_at,
                            "bench",
                            "0" * 64,
                            f"bench.{certificate_id}",
                            1,
                        )
                    )
                    certificate_id += 1
            case_id += 1
        print(
            f"built {len(case_rows):,} cases, {len(step_rows):,} steps, {len(event_rows):,} events, "
            f"{len(evaluation_rows):,} evaluations, {len(certificate_rows):,} certificates "
            f"in {time.perf_counter() - started:.0f} s"
        )

        def load(sql, rows):
            with cur.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)

        load(
            "COPY cases (id, number, item_id, applicant_id, channel, state, version, idempotency_key, form_data_enc, "
            "department_id, created_at, submitted_at, accepted_at, deadline, deadline_provisional, decided_at, decision, "  # noqa: E501
            "completed_at, current_stage, paused_since, paused_days, handed_over_at, handed_over_by_id, working_days, "
            "on_time) FROM STDIN",
            case_rows,
        )
        del case_rows
        load(
            "COPY case_steps (id, case_id, stage, mode, department_id, status, version, claimed_by_id, claimed_at, "
            "decided_by_id, decided_at) FROM STDIN",
            step_rows,
        )
        load("COPY case_events (id, case_id, at, actor_id, action, from_state, to_state) FROM STDIN", event_rows)
        load(
            "COPY evaluations (id, case_id, department_id, rating, comment, channel, recorded_by_id, at) FROM STDIN",
            evaluation_rows,
        )
        load(
            "COPY rectification_tasks (id, evaluation_id, case_id, department_id, opened_at, due, status, version) "
            "FROM STDIN",
            task_rows,
        )
        load(
            "COPY certificates (id, identifier, type_code, holder_id, case_id, issuer_id, data_enc, status, issued_at, "
            "pdf_blob_key, pdf_sha256, token, version) FROM STDIN",
            certificate_rows,
        )
        # Verifications: a few of most certificates, and many of 张三's (the wallet's long list).
        verification_id = ids["verifications"]
        cur.execute(
            "SELECT c.id FROM certificates c JOIN persons p ON p.id = c.holder_id WHERE p.id_number_hash = %s",
            (pii_hash(app),),
        )
        held = [r[0] for r in cur.fetchall()]
        with cur.copy(
            "COPY verifications (id, certificate_id, at, channel, verifier, purpose, result, action) FROM STDIN"
        ) as copy:
            base = datetime.now(UTC)
            for cid, *_rest in certificate_rows:
                for _ in range(rng.randrange(4)):
                    copy.write_row(
                        (
                            verification_id,
                            cid,
                            base - timedelta(minutes=rng.randrange(10**6)),
                            "page",
                            "bench",
                            None,
                            "valid",
                            "verify",
                        )
                    )
                    verification_id += 1
            for cid in held:
                for k in range(count // 100):
                    copy.write_row(
                        (
                            verification_id,
                            cid,
                            base - timedelta(minutes=k),
                            "api",
                            "bench",
                            "办理业务核验",
                            "valid",
                            "verify",
                        )
                    )
                    verification_id += 1
        _fix_sequences(cur, tables)
    conn.commit()
    print(f"loaded {count:,} cases by COPY in {time.perf_counter() - started:.0f} s")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE")  # statistics for the planner; the visibility map for index-only scans
    conn.autocommit = False
    raw.close()
    print(f"done (with VACUUM ANALYZE) in {time.perf_counter() - started:.0f} s")


def pii_hash(app) -> str:
    from govservice.core import pii

    with app.app_context():
        return pii.lookup_hash(ZHANG_SAN)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="generated cases wanted in all")
    parser.add_argument("--reset", action="store_true", help="remove every generated row first")
    args = parser.parse_args()
    app = _app()
    if args.reset:
        from govservice.core.extensions import db

        with app.app_context():
            raw = db.engine.raw_connection()
            started = time.perf_counter()
            reset(raw.driver_connection)
            raw.close()
            print(f"removed the generated rows in {time.perf_counter() - started:.0f} s")
    generate(app, args.cases)


if __name__ == "__main__":
    main()
