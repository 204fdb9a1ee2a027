"""Benchmark of the lists at 10k, 100k and 1M cases (issue 9): p95 and median of each page,
through the real app, signed in through the development identity provider like a browser.

    DATABASE_URL=postgresql+psycopg://... .venv/bin/python bench/lists.py [--sizes 10000,100000,1000000]
                                                                           [--rounds 30]

For each size, bench/generate.py first tops the generated cases up to it (so the sizes go
upwards: the 10k run, then 90k more, then 900k more; a database already holding more cases
than a size is measured at what it holds), then every page is fetched `--rounds` times, after
warming up: the department inbox (first page, and the next one through its 下一页 link), the
window's queue, 我的办件, the wallet, the supervision dashboard, catalogue search and the public
verification page, taking turns in each round. Prints one line per page and size, and the
ratios the issue names: inbox p95 at 100k ÷ at 10k, and at 1M ÷ at 10k (the goal: ≤ 1.5), also
divided by the same ratio of catalogue search (which the cases do not touch), to take out how
busy a shared machine was while each size ran. `--results FILE` keeps each size's figures
between runs, so a size measured before a `generate.py --reset` still counts in the ratios.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import generate  # noqa: E402  (bench/generate.py)

PEOPLE = {"officer": "刘洋", "clerk": "赵敏", "citizen": "张三", "supervisor": "孙强"}


def sign_in(client, name: str):
    """What a browser does: the platform sends it to the provider, it picks the identity there."""
    from govservice.identity.devidp.chooser import choose

    client.get(choose(client.get("/auth/login/devidp").headers["Location"], name))
    assert client.get("/cases").status_code == 200, f"{name} is not signed in"


def timed(pages: dict, rounds: int) -> dict[str, tuple[float, float]]:
    """(median, p95) per page; the pages take turns in every round, so a neighbour's load on a
    shared machine weighs on all of them alike."""
    for client, url in pages.values():
        for _ in range(3):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
    times = {label: [] for label in pages}
    for _ in range(rounds):
        for label, (client, url) in pages.items():
            start = time.perf_counter()
            response = client.get(url)
            times[label].append(time.perf_counter() - start)
            assert response.status_code == 200, (url, response.status_code)
    out = {}
    for label, values in times.items():
        values.sort()
        out[label] = (statistics.median(values), values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))])
    return out


def next_link(client, url: str) -> str | None:
    page = client.get(url).get_data(as_text=True)
    found = re.search(r'<a rel="next" href="([^"]+)"', page)
    return html.unescape(found.group(1)) if found else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--results", help="JSON file keeping each size's figures between runs")
    parser.add_argument(
        "--database",
        help="measure this prepared database instead of a scratch one "
        "(`govservice db upgrade` and `demo` run on it with this instance)",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from sqlalchemy import func, select

    from govservice import create_app
    from govservice.cases.models import Case
    from govservice.certificates.models import Certificate
    from govservice.core.extensions import db
    from govservice.identity.devidp import create_idp_app, serve_in_thread

    if not os.environ.get("DATABASE_URL", "").startswith("postgresql"):
        sys.exit("bench/lists.py measures PostgreSQL: set DATABASE_URL=postgresql+psycopg://...")
    if args.database:  # a database prepared before (migrated, demo loaded under this instance's keys)
        url = args.database
    else:  # a scratch database on DATABASE_URL's server, migrated, with the demo, and its own instance folder
        from harness import Platform

        url = Platform().database_url
    prefix = f"govservice-bench-lists-{os.getpid()}:"  # its own keys in a shared Redis
    base = create_app({"SQLALCHEMY_DATABASE_URI": url, "SESSION_KEY_PREFIX": prefix})
    server, _thread = serve_in_thread(create_idp_app("http://127.0.0.1:0", base.config["INSTANCE_DIR"]), "127.0.0.1", 0)
    port = server.server_port
    server.shutdown()
    server, _thread = serve_in_thread(
        create_idp_app(f"http://127.0.0.1:{port}", base.config["INSTANCE_DIR"]), "127.0.0.1", port
    )
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "DEV_IDP_URL": f"http://127.0.0.1:{port}",
            "SESSION_KEY_PREFIX": prefix,
            "RATELIMIT_ENABLED": False,
            "PUBLIC_URL": "http://localhost",
        }
    )
    with app.app_context():
        token = (
            db.session.execute(
                select(Certificate.token).where(~Certificate.identifier.like("BENCH-%")).order_by(Certificate.id)
            )
            .scalars()
            .first()
        )
    clients = {}
    for role, name in PEOPLE.items():
        clients[role] = app.test_client()
        sign_in(clients[role], name)
    anonymous = app.test_client()

    results: dict[int, dict[str, tuple[float, float]]] = {}
    if args.results and Path(args.results).exists():
        results = {
            int(k): {label: tuple(v) for label, v in figures.items()}
            for k, figures in json.loads(Path(args.results).read_text()).items()
        }
    for size in sizes:
        with app.app_context():  # the last size's page views are in the log before ids are counted
            from govservice.certificates import verification

            verification.flush()
        generate.generate(app, size)
        with app.app_context():
            held = db.session.execute(select(func.count()).select_from(Case)).scalar()
        pages = {
            "inbox": (clients["officer"], "/review/"),
            "inbox, page 2": (clients["officer"], next_link(clients["officer"], "/review/") or "/review/"),
            "intake queue": (clients["clerk"], "/window/"),
            "我的办件": (clients["citizen"], "/cases"),
            "wallet": (clients["citizen"], "/wallet"),
            "supervision": (clients["supervisor"], "/supervision/"),
            "search": (anonymous, "/items/?q=营业执照"),
        }
        if token:
            pages["verify page"] = (anonymous, f"/v/{token}")
        print(f"\n{held:,} cases in the database (asked for {size:,}):")
        results[size] = timed(pages, args.rounds)
        for label, (median, p95) in results[size].items():
            print(f"  {label:14} median {median * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms")

    if args.results:
        Path(args.results).write_text(json.dumps(results, ensure_ascii=False, indent=1))
    measured = sorted(results)
    first = measured[0]
    print()
    # Catalogue search does not depend on the cases: dividing by its ratio takes out how busy the
    # machine was while each size ran (the figure to trust on a shared machine).
    for size in measured[1:]:
        for label in ("inbox", "inbox, page 2", "intake queue", "我的办件", "wallet", "supervision"):
            ratio = results[size][label][1] / results[first][label][1]
            steady = ratio / (results[size]["search"][1] / results[first]["search"][1])
            mark = "  (goal ≤ 1.5)" if label == "inbox" else ""
            print(f"{label} p95 at {size:,} ÷ at {first:,}: {ratio:.2f}; relative to search: {steady:.2f}{mark}")
    server.shutdown()


if __name__ == "__main__":
    main()
