"""The production topology, end to end (issue 10, point 3): `deploy/cluster.py` starts three
gunicorn instances behind HAProxy (round robin, no stickiness), a Celery worker and beat on
Redis, and the development provider, on PostgreSQL. The journey goes through the load
balancer, each step on another instance; then one instance is SIGKILLed during a burst of
submissions, and the database is asked that every acknowledged submission is there once.

Needs PostgreSQL and Redis: on the SQLite run (no DATABASE_URL / REDIS_URL) it is skipped, as
a deployment never runs several instances on SQLite. It uses a database of its own beside the
one DATABASE_URL names (`<name>_cluster`, made or emptied here) and ports 18100-18199.
"""

from __future__ import annotations

import html
import os
import re
import signal
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "deploy"))
import cluster as deploy  # noqa: E402

from tests.factories import FORM, ITEM, pdf_bytes  # noqa: E402

DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
pytestmark = pytest.mark.skipif(
    not (DATABASE_URL.startswith("postgresql") and REDIS_URL),
    reason="several instances share PostgreSQL and Redis: this runs on the PostgreSQL + Redis run",
)

PORT = 18100
PDF = pdf_bytes()


def _scratch_database() -> str:
    base = make_url(DATABASE_URL)
    name = f"{base.database}_cluster"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = base.set(database=name)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cluster")
    run = uuid.uuid4().hex[:8]
    cluster = deploy.Cluster(
        instances=3,
        port=PORT,
        workers=1,
        concurrency=1,
        database_url=_scratch_database(),
        redis_url=REDIS_URL,
        folder=str(folder / "instance"),
        log_dir=str(folder),
        extra_env={
            "SESSION_KEY_PREFIX": f"govservice-cluster-{run}:",
            "CELERY_QUEUE": f"govservice-cluster-{run}",
            "LOG_REQUESTS": "0",
        },
    )
    try:
        cluster.start(timeout=90)
        yield cluster
    finally:
        cluster.stop()


SERVED: list[str] = []  # every answer through the balancer, in order


class Browser:
    """A person's browser through the load balancer: cookies, and which instance served each answer."""

    def __init__(self, base: str):
        self.base, self.http, self.served = base, requests.Session(), []

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        answer = self.http.request(
            method, path if path.startswith("http") else self.base + path, allow_redirects=False, timeout=30, **kwargs
        )
        if answer.url.startswith(self.base):
            self.served.append(answer.headers.get("X-Served-By"))
            SERVED.append(self.served[-1])
        return answer

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def sign_in(self, name: str) -> list[str]:
        from govservice.identity.devidp.chooser import choose

        start = self.get("/auth/login/devidp")
        assert start.status_code == 302, start.text[:300]
        done = self.get(choose(start.headers["Location"], name, self.http))
        assert done.status_code in (302, 303), done.text[:300]
        return self.served[-2:]

    def form(self, path: str, action: str) -> dict:
        """The hidden fields of the form posting to `action` on the page at `path`."""
        page = self.get(path)
        assert page.status_code == 200, (path, page.status_code)
        for form_action, body in re.findall(r'<form method="post" action="([^"]*)"[^>]*>(.*?)</form>', page.text, re.S):
            if html.unescape(form_action) == action:
                return {
                    k: html.unescape(v)
                    for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', body)
                }
        raise AssertionError(f"no form to {action} on {path}")

    def next_not_on(self, *instances: str) -> None:
        """Under round robin the next request goes to the instance that followed the last one
        the previous time round (HAProxy's order is its own): ask /healthz until that is none of
        `instances`, so the next step lands on another. (The test's requests are sequential
        here: the log of all of them is the balancer's order.)"""
        for _ in range(6):
            last = self.get("/healthz").headers["X-Served-By"]
            following = next((SERVED[i + 1] for i in range(len(SERVED) - 2, -1, -1) if SERVED[i] == last), None)
            if following is not None and following not in instances:
                return
        raise AssertionError(f"round robin did not move on: {SERVED[-12:]}")

    def apply(self, key: str) -> requests.Response:
        token = re.search(r'name="csrf_token" value="([^"]+)"', self.get(f"/apply/{ITEM}").text).group(1)
        return self.post(
            f"/apply/{ITEM}",
            data=dict(FORM, csrf_token=token, idempotency_key=key),
            files={"material_premises": ("lease.pdf", PDF, "application/pdf")},
        )


def _db(cluster, statement: str, **params):
    engine = create_engine(cluster.database_url)
    with engine.connect() as conn:
        rows = conn.execute(text(statement), params).all()
    engine.dispose()
    return rows


def test_the_journey_crosses_instances_and_survives_one_killed_in_a_burst(platform):
    base = platform.url
    # -- no stickiness: consecutive requests of one browser land on different instances
    applicant = Browser(base)
    started_on, came_back_on = applicant.sign_in("张三")
    assert started_on != came_back_on  # signed in on one, the callback on another
    assert applicant.get("/cases").status_code == 200 and applicant.served[-1] != came_back_on

    submitted = applicant.apply(uuid.uuid4().hex)
    assert submitted.status_code == 302 and "/cases/" in submitted.headers["Location"], submitted.text[:300]
    number = submitted.headers["Location"].split("?")[0].rsplit("/", 1)[1]
    submitted_on = applicant.served[-1]

    clerk = Browser(base)
    clerk.sign_in("赵敏")
    fields = clerk.form(f"/window/cases/{number}", f"/window/cases/{number}/accept")
    clerk.next_not_on(submitted_on)
    accepted = clerk.post(f"/window/cases/{number}/accept", data=fields)
    accepted_on = clerk.served[-1]
    assert accepted.status_code == 302 and accepted_on != submitted_on, (submitted_on, clerk.served)
    assert _db(platform, "SELECT state FROM cases WHERE number = :n", n=number)[0][0] == "accepted"

    officer = Browser(base)
    officer.sign_in("刘洋")
    officer.post(
        f"/review/cases/{number}/claim", data=officer.form(f"/review/cases/{number}", f"/review/cases/{number}/claim")
    )
    decide = officer.form(f"/review/cases/{number}", f"/review/cases/{number}/decide")
    assert (
        officer.post(
            f"/review/cases/{number}/decide", data=dict(decide, decision="approve", opinion="材料齐全，符合条件")
        ).status_code
        == 302
    )

    # -- the certificate is issued by the Celery worker (the web instances only queue the task)
    deadline = time.monotonic() + 30
    while not (
        rows := _db(
            platform,
            "SELECT c.identifier, c.token FROM certificates c JOIN cases k ON k.id = c.case_id WHERE k.number = :n",
            n=number,
        )
    ):
        assert time.monotonic() < deadline, "no certificate 30 s after the approval"
        time.sleep(0.25)
    identifier, token = rows[0]
    # 办结 is its own transaction, after the certificate's (and the holder's notice): tens of ms
    while _db(platform, "SELECT state FROM cases WHERE number = :n", n=number)[0][0] != "completed":
        assert time.monotonic() < deadline, "the case is not completed 30 s after the approval"
        time.sleep(0.05)

    visitor = Browser(base)
    assert "有效" in visitor.get(f"/v/{token}").text

    # -- revoked through a third instance: every instance says so at once
    revoke = officer.form("/review/certificates", f"/review/certificates/{identifier}/revoke")
    officer.next_not_on(submitted_on, accepted_on)
    assert (
        officer.post(
            f"/review/certificates/{identifier}/revoke", data=dict(revoke, reason="以欺骗手段取得登记", confirmed="1")
        ).status_code
        == 302
    )
    assert officer.served[-1] not in (submitted_on, accepted_on)
    answers = [visitor.get(f"/v/{token}") for _ in range(3)]
    assert {a.headers["X-Served-By"] for a in answers} == {"app1", "app2", "app3"}
    assert all("已吊销" in a.text for a in answers)

    # -- a burst of submissions; one instance is SIGKILLed in the middle of it
    clients = [Browser(base) for _ in range(6)]
    for i, client in enumerate(clients):
        client.sign_in(("张三", "李娜")[i % 2])
    sent, acked, lock, after_kill = set(), set(), threading.Lock(), []
    killed = threading.Event()
    stop_at = time.monotonic() + 5

    def submit_until_stopped(client: Browser) -> None:
        while time.monotonic() < stop_at:
            key = uuid.uuid4().hex
            with lock:
                sent.add(key)
            for attempt in range(8):  # a failed or unanswered submission is sent again, same key
                try:
                    answer = client.apply(key)
                    if answer.status_code == 302 and "/cases/" in answer.headers.get("Location", ""):
                        with lock:
                            acked.add(key)
                            if killed.is_set():
                                after_kill.append(key)
                        break
                except requests.RequestException:
                    pass
                time.sleep(0.1 * (attempt + 1))

    threads = [threading.Thread(target=submit_until_stopped, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    victim = next(p for p in platform.processes if p.name == "app2")
    victim.signal(signal.SIGKILL)  # the master and its workers, mid-request
    killed.set()
    for thread in threads:
        thread.join(timeout=60)

    rows = _db(
        platform,
        "SELECT idempotency_key, count(*) FROM cases WHERE idempotency_key = ANY(:keys) GROUP BY idempotency_key",
        keys=list(sent),
    )
    stored = dict(rows)
    assert acked, "no submission was acknowledged"
    assert not acked - set(stored), f"acknowledged but lost: {sorted(acked - set(stored))}"
    assert all(n == 1 for n in stored.values()), "a submission was stored twice"
    assert len(after_kill) >= 5, "the load balancer did not route around the killed instance"
    served_after = [visitor.get("/healthz").headers["X-Served-By"] for _ in range(6)]
    assert "app2" not in served_after and set(served_after) == {"app1", "app3"}

    # -- metrics: per instance, summed over its gunicorn workers; never through the entrance
    metrics = requests.get(f"http://127.0.0.1:{platform.instance_port(0)}/metrics", timeout=10).text
    counted = sum(
        float(v)
        for v in re.findall(
            r'^govservice_http_request_duration_seconds_count\{endpoint="cases.apply",method="POST"[^}]*\} (\S+)$',
            metrics,
            re.M,
        )
    )
    assert counted >= 1
    assert re.search(r'^govservice_case_transitions_total\{action="submit"\} \d', metrics, re.M)
    assert requests.get(f"{base}/metrics", timeout=10).status_code == 403
