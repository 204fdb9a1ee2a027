"""What the request hooks of govservice/ops cost per request, against bare hello world.

    .venv/bin/python bench/ops_hooks.py [--seconds 5] [--rounds 5]

One gunicorn worker (the project's gunicorn.conf.py, metrics in multiprocess mode as deployed),
wrk with 4 connections keeping it busy, alternating plain / hooks without the access line /
hooks with the access line (JSON, to /dev/null); the median requests/s of each. With one
worker saturated, 1 / rate is the worker's time per request, so the difference of the inverses
is what the hooks add to each request. On a shared machine those rates swing with the
neighbours' load, so the same three apps are also timed in this process by CPU time (best of
seven passes of 20,000 WSGI calls each), which the neighbours barely move. Goal: under 50 µs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from harness import BIN, ROOT, alternate, free_port, require_wrk, wrk


def serve(target: str, port: int, **env) -> subprocess.Popen:
    settings = dict(
        os.environ, GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="1", GUNICORN_LOGLEVEL="error", **env
    )
    settings.pop("PROMETHEUS_MULTIPROC_DIR", None)  # gunicorn.conf.py makes a fresh one per server
    return subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), target],
        cwd=ROOT,
        env=settings,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def cpu_cost(app, calls: int = 20000) -> float:
    """CPU µs per WSGI call of `app` (best of seven passes)."""
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(path="/").get_environ()

    def call():
        body = app(dict(environ), lambda status, headers, exc_info=None: None)
        for _ in body:
            pass
        getattr(body, "close", lambda: None)()

    for _ in range(500):
        call()
    passes = []
    for _ in range(7):
        started = time.process_time()
        for _ in range(calls):
            call()
        passes.append((time.process_time() - started) / calls * 1e6)
    return min(passes)


def in_process() -> None:
    import logging
    import tempfile

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="govservice-bench-metrics-")
    sys.path.insert(0, str(ROOT))
    import ops_hello

    for handler in logging.getLogger().handlers:
        if getattr(handler, "_govservice", False):
            handler.setStream(open(os.devnull, "w"))
    access = logging.getLogger("govservice.access")
    access.setLevel(logging.WARNING)
    plain, hooked = cpu_cost(ops_hello.plain), cpu_cost(ops_hello.hooked)
    access.setLevel(logging.INFO)
    logged = cpu_cost(ops_hello.hooked)
    print(
        f"in process, CPU per request: plain {plain:.1f} µs; hooks +{hooked - plain:.1f} µs; "
        f"hooks with the access line +{logged - plain:.1f} µs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    require_wrk()
    import requests

    ports = {"plain": free_port(), "hooks": free_port(), "hooks+access log": free_port()}
    servers = [
        serve("bench.ops_hello:plain", ports["plain"]),
        serve("bench.ops_hello:hooked", ports["hooks"], LOG_REQUESTS="0"),
        serve("bench.ops_hello:hooked", ports["hooks+access log"], LOG_REQUESTS="1"),
    ]
    try:
        for port in ports.values():
            for _ in range(100):
                try:
                    requests.get(f"http://127.0.0.1:{port}/", timeout=1)
                    break
                except requests.RequestException:
                    time.sleep(0.1)
        runs = {
            name: (lambda port=port: wrk(f"http://127.0.0.1:{port}/", seconds=args.seconds, connections=4)["rate"])
            for name, port in ports.items()
        }
        medians, every = alternate(runs, args.rounds)
    finally:
        for server in servers:
            os.killpg(server.pid, 15)
            server.wait(timeout=30)
    base = medians["plain"]
    for name, rate in medians.items():
        extra = (1 / rate - 1 / base) * 1e6
        print(
            f"{name:18} {rate:8.0f} req/s (runs: {', '.join(f'{r:.0f}' for r in every[name])})"
            + ("" if name == "plain" else f"   +{extra:.1f} µs per request")
        )
    in_process()
    print("goal: the hooks add under 50 µs per request")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
