"""Readiness, metrics, request ids and logs, and the settings checked at start (issue 10, points 5-6)."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from govservice import create_app
from govservice.core.config import ROOT
from govservice.ops import requestlog

from ..factories import issue, submitted_case
from ..ports import free_port


def _metrics(client) -> dict:
    answer = client.get("/metrics")
    assert answer.status_code == 200 and answer.mimetype == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(answer.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_readyz_checks_every_configured_dependency(client):
    answer = client.get("/readyz")
    body = answer.get_json()
    assert answer.status_code == 200 and body["status"] == "ready" and body["down"] == []
    expected = {"database"} | ({"redis"} if os.environ.get("REDIS_URL") else set())
    assert set(body["checks"]) == expected and all(c["ok"] for c in body["checks"].values())


# Committed: a second app (a broker that does not answer) checks the test database on its own engine.
@pytest.mark.committed
def test_readyz_names_a_broker_that_does_not_answer(app_factory_config):
    down = create_app(dict(app_factory_config, CELERY_BROKER_URL="redis://127.0.0.1:18153/0")).test_client()
    answer = down.get("/readyz")
    body = answer.get_json()
    assert answer.status_code == 503 and body["down"] == ["broker"] and not body["checks"]["broker"]["ok"]
    assert body["checks"]["database"]["ok"]


@pytest.fixture
def app_factory_config(app):
    return dict(app.config)


def test_metrics_count_requests_transitions_and_verifications(app, client, ctx, clock):
    before = _metrics(client)
    for _ in range(3):
        client.get("/healthz")
    case = submitted_case()
    certificate = issue()
    assert client.get(f"/v/{certificate.token}").status_code == 200
    assert client.get("/v/not-a-token").status_code in (200, 404)
    after = _metrics(client)
    count = "govservice_http_request_duration_seconds_count"
    assert (
        _value(after, count, endpoint="main.health", method="GET", status="2xx")
        - _value(before, count, endpoint="main.health", method="GET", status="2xx")
        == 3
    )
    assert (
        _value(after, "govservice_case_transitions_total", action="submit")
        - _value(before, "govservice_case_transitions_total", action="submit")
        == 1
    )
    assert (
        _value(after, "govservice_verifications_total", channel="page", result="valid")
        - _value(before, "govservice_verifications_total", channel="page", result="valid")
        == 1
    )
    assert ("govservice_audit_unsealed_entries", ()) in after and ("govservice_audit_sealer_lag_seconds", ()) in after
    if os.environ.get("REDIS_URL"):
        assert ("govservice_queue_depth", (("queue", "verifications"),)) in after
    assert case.number


def test_metrics_can_ask_for_a_token(app, client):
    app.config["METRICS_TOKEN"] = "s3cret-token"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200


def test_every_answer_carries_a_request_id_and_a_sane_given_one_is_kept(client):
    mine = client.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", mine) and client.get("/healthz").headers["X-Request-ID"] != mine
    assert client.get("/healthz", headers={"X-Request-ID": "lb-0a1b2c3d4e"}).headers["X-Request-ID"] == "lb-0a1b2c3d4e"
    forged = client.get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", forged)  # replaced by one of ours


def test_json_log_lines_hold_the_request_id_and_no_id_or_phone_number(app):
    handler_formatter = requestlog._json_formatter()
    with app.test_request_context("/cases", headers={"X-Request-ID": "req-12345678"}):
        record = logging.LogRecord(
            "govservice.x",
            logging.WARNING,
            __file__,
            1,
            "applicant %s, phone %s",
            ("110105198802150035", "13800000001"),
            None,
        )
        requestlog.RequestContextFilter().filter(record)
        line = json.loads(handler_formatter.format(record))
    assert line["request_id"] == "req-12345678" and line["level"] == "WARNING" and line["logger"] == "govservice.x"
    assert line["message"] == "applicant 110105********0035, phone 138****0001"
    assert "110105198802150035" not in json.dumps(line)


def test_the_access_line_names_the_endpoint_never_the_path(app, client, caplog):
    with caplog.at_level(logging.INFO, logger="govservice.access"):
        client.get("/v/eyJhbGciOiJFUzI1NiJ9.secret-looking-token.sig")
    [line] = [r for r in caplog.records if r.name == "govservice.access"]
    assert line.endpoint == "certificates.verify" and line.status in (200, 404)
    assert "secret-looking-token" not in line.getMessage()


@pytest.mark.parametrize(
    "env, message",
    [
        ({"GOVSERVICE_ENV": "prod"}, "GOVSERVICE_ENV='prod' is not one of: development, staging, production"),
        ({"AUDIT_SEALER": "sometimes"}, "AUDIT_SEALER='sometimes' is not one of: auto, thread, beat, off"),
        ({"SESSION_IDLE_MINUTES": "half an hour"}, "SESSION_IDLE_MINUTES='half an hour' is not an integer"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL='localhost:6379' is not a redis or rediss or unix URL"),
        ({"DATABASE_URL": "mysql://db/x"}, "DATABASE_URL: mysql is not supported"),
        ({"GOVSERVICE_ENV": "production"}, "SECRET_KEY is not set: outside development every secret comes from"),
        (
            {"DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:18154/nothing"},
            "DATABASE_URL: the database postgresql+psycopg://postgres@127.0.0.1:18154/nothing does not answer",
        ),
    ],
)
def test_a_misconfigured_deployment_stops_at_start_with_one_line_naming_the_setting(
    tmp_path, monkeypatch, env, message
):
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "GOVSERVICE_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOVSERVICE_INSTANCE", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stopped:
        create_app()
    assert str(stopped.value).startswith(f"govservice: configuration error: {message}")
    assert "\n" not in str(stopped.value)
    assert not (tmp_path / "keys" / "secret_key").exists() or env.get("GOVSERVICE_ENV") != "production"


def test_gunicorn_stops_at_once_with_the_line(tmp_path):
    env = dict(os.environ, GOVSERVICE_INSTANCE=str(tmp_path), GOVSERVICE_ENV="staging", GUNICORN_BIND="127.0.0.1:18155")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "app:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "govservice: configuration error: SECRET_KEY is not set" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_gunicorn_worker_leaves_what_the_master_loaded_to_no_collection(tmp_path):
    """gunicorn.conf.py freezes the preloaded objects before forking: a worker's garbage
    collections walk only what the worker made itself (shown by a worker of a tiny app)."""
    import time
    import urllib.request

    (tmp_path / "frozen_app.py").write_text(
        "import gc\n"
        "loaded = [[i] for i in range(50_000)]  # the master's preloaded objects\n"
        "def app(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [f'{gc.get_freeze_count()} {len(gc.get_objects())}'.encode()]\n"
    )
    port = free_port()
    env = dict(os.environ, GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="1", PYTHONPATH=str(tmp_path))
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "frozen_app:app"],
        cwd=tmp_path,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as answer:
                    frozen, tracked = map(int, answer.read().split())
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert frozen > 50_000  # the app's lists and everything else the master had loaded
    assert tracked < frozen / 2
