"""Certificate verification over HTTP against a hello-world route, under the same gunicorn settings.

    .venv/bin/python bench/verify_http.py [--seconds 5] [--rounds 3] [--connections 100]

Serves the platform (`gunicorn -c gunicorn.conf.py app:app`) and bench/hello.py side by side,
then drives each with wrk (100 connections), alternating hello / page / hello / API / ..., and
prints the median requests/s of each and the ratios the issue names:
  * the public verification page GET /v/<token> ÷ hello world   (goal ≥ 0.6)
  * POST /api/v1/certificates/verify (a partner's bearer token) ÷ hello world   (goal ≥ 0.6)
each worker's resident memory after the load (goal ≤ 120 MB), and what a forged token costs
(goal: no more than a valid one; it is counted, never logged). Uses DATABASE_URL's server
(a scratch database) and REDIS_URL when set, like a deployment; SQLite otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time

from harness import Platform, alternate, free_port, gunicorn, require_wrk, server_cpu_seconds, worker_memory_mb, wrk

# Cold: every request a different token (10,000 distinct QR tokens of the certificate, more than
# each worker keeps of rendered pages or verified tokens), so nothing kept for one QR serves the next.
COLD_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
"""

API_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.body = os.getenv("BENCH_BODY")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=100)
    args = parser.parse_args()
    require_wrk()

    platform = Platform()
    from govservice.certificates import services
    from govservice.partners import services as partners

    with platform.app.app_context():
        certificate = platform.issue_certificate()
        token, identifier = certificate.token, certificate.identifier
        claims = services.key_store().verify(token)
        cold_tokens = [services.key_store().sign(claims) for _ in range(10_000)]
        _client, secret = partners.register_client(
            "房屋租赁备案系统", "住房和城乡建设委员会", ["certificates:verify"], client_id="bench-partner"
        )

    app_port, hello_port = free_port(), free_port()
    with (
        gunicorn("app:app", platform.env, app_port, ready_path="/healthz") as master,
        gunicorn("bench.hello:app", platform.env, hello_port) as hello_master,
    ):
        import requests

        answer = requests.post(
            f"http://127.0.0.1:{app_port}/oauth/token",
            auth=("bench-partner", secret),
            data={"grant_type": "client_credentials", "scope": "certificates:verify"},
            timeout=10,
        )
        answer.raise_for_status()
        bearer = answer.json()["access_token"]
        forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")  # the signature changed
        assert requests.get(f"http://127.0.0.1:{app_port}/v/{forged}", timeout=10).status_code == 404
        page = requests.get(f"http://127.0.0.1:{app_port}/v/{token}", timeout=10)
        assert page.status_code == 200 and "有效" in page.text, page.status_code
        body = json.dumps({"identifier": identifier, "purpose": "核验营业执照"}, ensure_ascii=False)
        checked = requests.post(
            f"http://127.0.0.1:{app_port}/api/v1/certificates/verify",
            data=body.encode(),
            headers={"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"},
            timeout=10,
        )
        assert checked.status_code == 200 and checked.json()["status"] == "valid", checked.text
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(API_SCRIPT)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as cold_script:
            cold_script.write(COLD_SCRIPT)
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as paths:
            paths.write("\n".join(f"/v/{t}" for t in cold_tokens) + "\n")
        api_env = {"BENCH_TOKEN": bearer, "BENCH_BODY": body}

        failures, answered = [], [2]  # the two checks above
        cpu = {}  # name -> server CPU µs per request, each run

        def run(url, counted=True, name=None, refused=False, **kw):
            server = hello_master if not counted else master

            def go():
                before = server_cpu_seconds(server)
                result = wrk(url, seconds=args.seconds, connections=args.connections, **kw)
                cpu.setdefault(name, []).append((server_cpu_seconds(server) - before) / result["requests"] * 1e6)
                wrong = result["requests"] - result["non2xx"] if refused else result["non2xx"]
                if wrong or result["socket_errors"]:
                    failures.append((url, wrong, result["socket_errors"]))
                if counted and not refused:
                    answered[0] += result["requests"] - result["non2xx"]
                return result["rate"]

            return go

        medians, samples = alternate(
            {
                "hello": run(f"http://127.0.0.1:{hello_port}/", counted=False, name="hello"),
                "page": run(f"http://127.0.0.1:{app_port}/v/{token}", name="page"),
                "hello ": run(f"http://127.0.0.1:{hello_port}/", counted=False, name="hello"),
                "api": run(
                    f"http://127.0.0.1:{app_port}/api/v1/certificates/verify",
                    name="api",
                    script=script.name,
                    extra_env=api_env,
                ),
                "forged": run(f"http://127.0.0.1:{app_port}/v/{forged}", name="forged", refused=True),
                "cold": run(
                    f"http://127.0.0.1:{app_port}/",
                    name="cold",
                    script=cold_script.name,
                    extra_env={"BENCH_PATHS": paths.name},
                ),
            },
            args.rounds,
        )
        memory = worker_memory_mb(master)
        for name in (script.name, cold_script.name, paths.name):
            os.unlink(name)
    hello = (medians["hello"] + medians["hello "]) / 2
    database = platform.database_url.split(":", 1)[0]
    print(
        f"verify over HTTP ({database}, redis {'on' if os.environ.get('REDIS_URL') else 'off'}, "
        f"{args.connections} connections, {args.rounds} rounds of {args.seconds:g} s, medians):"
    )
    print(f"  hello world                      {hello:8.0f} req/s   samples {samples['hello'] + samples['hello ']}")
    print(f"  GET /v/<token>                   {medians['page']:8.0f} req/s   samples {samples['page']}")
    print(f"  GET /v/<token>, 10,000 tokens    {medians['cold']:8.0f} req/s   samples {samples['cold']}")
    print(f"  POST /api/v1/certificates/verify {medians['api']:8.0f} req/s   samples {samples['api']}")
    print(f"  GET /v/<forged token> (404)      {medians['forged']:8.0f} req/s   samples {samples['forged']}")
    print(
        f"verify page ÷ hello world: {medians['page'] / hello:.2f} (goal ≥ 0.6); "
        f"with a different token each request: {medians['cold'] / hello:.2f}"
    )
    print(f"verify API ÷ hello world: {medians['api'] / hello:.2f} (goal ≥ 0.6)")
    # CPU the servers spent per request (user + system, workers and master): what neighbours on a
    # shared machine move least. hello ÷ page is the ratio the two would reach alone on the cores.
    per = {name: statistics.median(values) for name, values in cpu.items()}
    print(
        "server CPU per request (median µs): "
        + ", ".join(f"{name} {per[name]:.0f}" for name in ("hello", "page", "cold", "api", "forged"))
        + f"; hello ÷ page {per['hello'] / per['page']:.2f}, hello ÷ API {per['hello'] / per['api']:.2f}"
    )
    print(
        f"a forged token costs {per['forged'] / per['page']:.2f}× a valid one checked before, "
        f"{per['forged'] / per['cold']:.2f}× a valid one seen for the first time (goal: no more)"
    )
    print(
        f"worker RSS after load: {', '.join(f'{r:.0f} MB' for r, _p in memory)} (goal ≤ 120 MB); "
        f"PSS {', '.join(f'{p:.0f} MB' for _r, p in memory)}"
    )
    if failures:
        print(f"  errors during the runs (url, non-2xx, socket errors): {failures}")
    with platform.app.app_context():
        from govservice.certificates import verification
        from govservice.certificates.models import Verification
        from govservice.core.extensions import db

        verification.flush()
        recorded = db.session.query(Verification).count()
        copy = platform.app.extensions.get("mirror")
        if copy is not None and copy.wait_live():  # how soon another process hears of a revocation
            delays = []
            for _ in range(200):
                started = time.perf_counter()
                copy.sync()
                delays.append((time.perf_counter() - started) * 1000)
            print(
                f"a change announced reaches another process's memory in {statistics.median(delays):.2f} ms"
                " (median of 200)"
            )
        print(
            f"verifications answered {answered[0]}, recorded {recorded} (answers still in flight when wrk stops are recorded too), lost {max(0, answered[0] - recorded)}"  # noqa: E501
        )
    platform.close()


if __name__ == "__main__":
    main()
