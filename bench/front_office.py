"""Benchmark of the front office: catalogue search, and registry look-ups.

    .venv/bin/python bench/front_office.py [--items 1000] [--seconds 2]

Prints:
  * catalogue search latency (median and p95 per query, for everyday queries) on the real items,
    then on the real items plus `--items` synthetic ones (copies with other names and keywords)
    — the index is the bigram table queried with IN/GROUP BY, as in production;
  * registry look-ups per second: the development registry in process, and the same registry
    over HTTP on loopback (HttpRegistry against the development registry service), which is
    what a look-up costs the form before any network between agencies.
Runs on a throw-away SQLite instance (or a scratch database on DATABASE_URL's server); not part of the test suite.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import scratch_database  # noqa: E402

QUERIES = ["营业执照", "开饭店", "我想自己交社保", "居住证", "宝宝上户口", "施工许可证", "理发店", "失业金"]


def timings(fn, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def rate(fn, seconds: float) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    instance = tempfile.mkdtemp(prefix="govservice-bench-")
    try:
        from govservice import create_app
        from govservice.app import migrate
        from govservice.catalog import search
        from govservice.catalog import services as catalog
        from govservice.catalog.models import ServiceItem
        from govservice.core.extensions import db
        from govservice.registry.backends import DevRegistry, HttpRegistry
        from govservice.registry.devserver import create_registry_app, serve_in_thread

        url = scratch_database(instance)
        app = create_app({"INSTANCE_DIR": instance, "SQLALCHEMY_DATABASE_URI": url, "BLOB_DIR": f"{instance}/blobs"})
        with app.app_context():
            migrate.upgrade()
            catalog.sync()

            def report(label):
                per_query = {q: timings(lambda q=q: search.search(q), 20) for q in QUERIES}
                flat = sorted(t for ts in per_query.values() for t in ts)
                print(
                    f"search, {label}: median {statistics.median(flat) * 1000:.2f} ms, "
                    f"p95 {flat[int(len(flat) * 0.95)] * 1000:.2f} ms over {len(flat)} queries"
                )

            report(f"{len(catalog.list_items())} items")
            real = catalog.list_items()
            start = time.perf_counter()
            for n in range(args.items):
                base = real[n % len(real)]
                definition = dict(
                    base.definition,
                    code=f"bench-{n:05d}",
                    name=f"{base.name}（示例{n}）",
                    keywords=[f"示例关键词{n % 97}", f"场景{n % 31}"],
                )
                row = ServiceItem(
                    code=definition["code"],
                    version=1,
                    is_current=True,
                    name=definition["name"],
                    kind=base.kind,
                    department=base.department,
                    result_type=base.result_type,
                    time_limit_days=base.time_limit_days,
                    level_of_assurance=base.level_of_assurance,
                    audience=base.audience,
                    definition=definition,
                    digest=str(n),
                )
                db.session.add(row)
                db.session.flush()
                search.index_item(row, base.department.name)
            db.session.commit()
            print(f"indexed {args.items} synthetic items in {time.perf_counter() - start:.1f} s")
            report(f"{len(real) + args.items} items")

        dev = DevRegistry(1000)
        numbers = list(dev.people)
        i = iter(range(10**9))
        print(
            f"registry in process: {rate(lambda: dev.person(numbers[next(i) % len(numbers)], purpose='b'), args.seconds):,.0f} look-ups/s"  # noqa: E501
        )
        import logging

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = serve_in_thread(create_registry_app(token="bench", generated=1000))
        remote = HttpRegistry(f"http://127.0.0.1:{server.server_port}", token="bench", timeout=5)
        j = iter(range(10**9))
        print(
            f"registry over HTTP (loopback): {rate(lambda: remote.person(numbers[next(j) % len(numbers)], purpose='b'), args.seconds):,.0f} look-ups/s"  # noqa: E501
        )
        server.shutdown()
    finally:
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
