"""System calls per request: the verification page and API against a hello-world route.

    .venv/bin/python bench/syscalls.py [--requests 2000]

On the virtual machines this platform is measured on a system call costs tens of microseconds,
as much as a good part of a simple request's Python work, so the count is a figure of its own:
it is exact and repeatable where requests/s are noisy. Each target is served by one gunicorn
worker under the project's gunicorn.conf.py; strace counts that worker's calls (all its threads:
the verification drainer and the audit sealer included) while wrk sends the requests.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from harness import Platform, free_port, gunicorn, require_wrk

STOP_AFTER = """
local n = 0
request = function()
  n = n + 1
  if n > REQUESTS then wrk.thread:stop() end
  return wrk.format()
end
"""


def count(worker: int, url: str, requests: int, script: str = "", env: dict | None = None) -> tuple[float, dict]:
    """(system calls per request, the ten most frequent per request) of `worker` answering `url`."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script + STOP_AFTER.replace("REQUESTS", str(requests)))
    out = os.path.join(tempfile.mkdtemp(), "strace.txt")
    tracer = subprocess.Popen(["strace", "-c", "-f", "-p", str(worker), "-o", out], stderr=subprocess.DEVNULL)
    time.sleep(1)
    run = subprocess.run(
        ["wrk", "-t1", "-c1", "-d60s", "-s", lua.name, url],
        env=dict(os.environ, **(env or {})),
        capture_output=True,
        text=True,
    )
    time.sleep(1.5)  # the drainer's next round: its writes belong to these requests
    tracer.send_signal(2)
    tracer.wait()
    done = int(re.search(r"(\d+) requests in", run.stdout).group(1))
    calls = {}
    for line in open(out):
        fields = line.split()
        if len(fields) >= 5 and fields[-1] != "total" and fields[0][0].isdigit():
            calls[fields[-1]] = int(fields[3])
    os.unlink(lua.name)
    top = dict(sorted(((k, v / done) for k, v in calls.items()), key=lambda kv: -kv[1])[:10])
    return sum(calls.values()) / done, top


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    require_wrk()
    if shutil.which("strace") is None:
        sys.exit("bench: strace is needed (Debian: apt-get install strace)")
    platform = Platform()
    from govservice.partners import services as partners

    with platform.app.app_context():
        certificate = platform.issue_certificate()
        token, identifier = certificate.token, certificate.identifier
        _client, secret = partners.register_client(
            "房屋租赁备案系统", "住房和城乡建设委员会", ["certificates:verify"], client_id="bench-partner"
        )
    env = dict(platform.env, GUNICORN_WORKERS="1")
    app_port, hello_port = free_port(), free_port()
    with (
        gunicorn("app:app", env, app_port, ready_path="/healthz") as master,
        gunicorn("bench.hello:app", env, hello_port) as hello,
    ):
        import requests

        bearer = requests.post(
            f"http://127.0.0.1:{app_port}/oauth/token",
            auth=("bench-partner", secret),
            data={"grant_type": "client_credentials", "scope": "certificates:verify"},
            timeout=10,
        ).json()["access_token"]
        body = json.dumps({"identifier": identifier, "purpose": "核验营业执照"}, ensure_ascii=False)
        api = (
            'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
            'wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")\nwrk.body = os.getenv("BENCH_BODY")\n'
        )

        def worker(m):
            return int(open(f"/proc/{m.pid}/task/{m.pid}/children").read().split()[0])

        rows = [
            ("hello world", count(worker(hello), f"http://127.0.0.1:{hello_port}/", args.requests)),
            (
                "GET /v/<token>",
                count(worker(master), f"http://127.0.0.1:{app_port}/v/{token}", args.requests),
            ),
            (
                "POST /api/v1/certificates/verify",
                count(
                    worker(master),
                    f"http://127.0.0.1:{app_port}/api/v1/certificates/verify",
                    args.requests,
                    api,
                    {"BENCH_TOKEN": bearer, "BENCH_BODY": body},
                ),
            ),
        ]
    print(f"system calls per request (one gunicorn worker, {args.requests} requests each, strace -c):")
    for name, (total, top) in rows:
        print(f"  {name:34s} {total:5.1f}   " + ", ".join(f"{k} {v:.1f}" for k, v in top.items() if v >= 0.5))


if __name__ == "__main__":
    main()
