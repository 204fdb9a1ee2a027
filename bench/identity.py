"""Benchmark of the identity domain: sign-in through a live provider, and what server-side
sessions cost per request.

    .venv/bin/python bench/identity.py [--requests 500] [--logins 20]

Prints, on a throw-away SQLite instance (or a scratch database on DATABASE_URL's server), with the development provider
live on a free port:
  * a full sign-in (platform redirect, the provider's chooser, code exchange, ID token checks
    with the cached JWKS, the person and link written, a new session) per second;
  * requests per second of a page that reads nothing from the database (/healthz): without a
    cookie, with a signed-in session in the database store, and in Redis when REDIS_URL is set
    (each request loads and decrypts the session; a write happens at most once a minute);
  * "sign out everywhere" for a person with many sessions.
It is not part of the test suite.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402
from harness import scratch_database  # noqa: E402


def login(client, name: str) -> None:
    start = client.get("/auth/login/devidp")
    page = requests.get(start.headers["Location"], timeout=10).text
    for action, body in re.findall(r'<form method="post" action="([^"]*)">(.*?)</form>', page, re.S):  # noqa: B007
        button = re.search(rf'name="identity" value="([^"]*)">以 {name} 登录', body)
        if button:
            break
    fields = {k: html.unescape(v) for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', body)}
    fields["identity"] = button.group(1)
    answer = requests.post(
        urljoin(start.headers["Location"], html.unescape(action)), data=fields, allow_redirects=False, timeout=10
    )
    back = urlsplit(answer.headers["Location"])
    assert client.get(f"{back.path}?{back.query}").status_code == 302


def per_second(fn, count: int) -> float:
    fn()
    started = time.perf_counter()
    for _ in range(count):
        fn()
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--logins", type=int, default=20)
    args = parser.parse_args()
    instance = tempfile.mkdtemp(prefix="bench-identity-")
    try:
        from govservice import create_app
        from govservice.app import demo, migrate
        from govservice.core.extensions import db
        from govservice.identity.devidp import create_idp_app, serve_in_thread
        from govservice.identity.services import find_person

        idp_server, _ = serve_in_thread(create_idp_app("http://127.0.0.1:0", instance), "127.0.0.1", 0)
        port = idp_server.server_port
        idp_server.shutdown()
        issuer = f"http://127.0.0.1:{port}"
        idp_server, _ = serve_in_thread(create_idp_app(issuer, instance), "127.0.0.1", port)
        database = scratch_database(instance)
        results = []
        for store, redis_url in [("database", ""), ("redis", os.environ.get("REDIS_URL", ""))]:
            if store == "redis" and not redis_url:
                continue
            app = create_app(
                {
                    "INSTANCE_DIR": instance,
                    "SQLALCHEMY_DATABASE_URI": database,
                    "DEV_IDP_URL": issuer,
                    "PUBLIC_URL": "http://localhost",
                    "SERVER_NAME": "localhost",
                    "REDIS_URL": redis_url,
                    "RATELIMIT_ENABLED": False,
                    "SESSION_KEY_PREFIX": f"bench-{time.time()}:",
                }
            )
            with app.app_context():
                if store == "database":
                    migrate.upgrade()
                    demo.load(certificates=False)
            anonymous = app.test_client()
            signed_in = app.test_client()
            login(signed_in, "张三")
            if store == "database":
                results.append(
                    (
                        "sign-in through the live provider",
                        per_second(lambda: login(app.test_client(), "张三"), args.logins),  # noqa: B023
                        "/s",
                    )
                )
                results.append(
                    ("GET /healthz, no session", per_second(lambda: anonymous.get("/healthz"), args.requests), "/s")  # noqa: B023
                )
            results.append(
                (
                    f"GET /healthz, signed-in session in {store}",
                    per_second(lambda: signed_in.get("/healthz"), args.requests),  # noqa: B023
                    "/s",
                )
            )
            with app.app_context():
                person = find_person("110105198802150035")
            many = [app.test_client() for _ in range(20)]
            for client in many:
                login(client, "张三")
            with app.test_request_context():
                from govservice.identity import services

                started = time.perf_counter()
                ended = services.sign_out_everywhere(db.session.merge(person))
                results.append(
                    (f"sign out everywhere ({ended} sessions, {store})", (time.perf_counter() - started) * 1000, "ms")
                )
        idp_server.shutdown()
        width = max(len(name) for name, _, _ in results)
        for name, value, unit in results:
            print(f"{name:<{width}}  {value:10.1f} {unit}")
    finally:
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
