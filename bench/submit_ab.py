"""Two variants of the submission path, side by side in one process: the CPU of each, alternated.

    .venv/bin/python bench/submit_ab.py bench/variants/nothing.py [--count 1500]

On a shared machine the CPU of a submission moves by more between two runs (and within one, over
a minute) than most changes of the code save. Here one process submits `--count` applications
through the test client (signed in through the development provider, with a small PDF, as
`bench/submit_http.py --in-process` does), switching between the two variants before each one
in the order A B B A, so that whatever the neighbours do falls on both alike; every fifth is
sent again with its key (a double click), counted apart. Prints the median and the mean CPU of
each. Run it with a variant that changes nothing (A/A) to see what it cannot resolve: about 1-2 %.

VARIANT.py is a small module of the change being measured:

    NAMES = {True: "the new way", False: "the old way"}
    def setup(app): ...        # once, in the app's context (may be empty)
    def toggle(new: bool): ... # puts one variant or the other in place (e.g. a module's function)
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import logging
import os
import statistics
import time
import uuid

from harness import Platform, free_port
from submit_http import CSRF_TOKEN, ITEM, PEOPLE, pdf_bytes, post_fields


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant", help="the module with NAMES, setup(app) and toggle(new)")
    parser.add_argument("--count", type=int, default=1500)
    args = parser.parse_args()
    spec = importlib.util.spec_from_file_location("variant", args.variant)
    variant = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(variant)

    idp_port = free_port()
    # with REDIS_URL, as deployed: the notices wait in their rows for a worker (none runs here)
    jobs = (
        {"CELERY_BROKER_URL": os.environ["REDIS_URL"], "CELERY_QUEUE": f"govservice-ab-{uuid.uuid4().hex[:8]}"}
        if os.environ.get("REDIS_URL")
        else {}
    )
    platform = Platform(DEV_IDP_URL=f"http://127.0.0.1:{idp_port}", PUBLIC_URL="http://127.0.0.1:8000", **jobs)
    from govservice.identity.devidp import create_idp_app, serve_in_thread
    from govservice.identity.devidp.chooser import choose

    server, _thread = serve_in_thread(
        create_idp_app(f"http://127.0.0.1:{idp_port}", platform.folder), "127.0.0.1", idp_port
    )
    logging.disable(logging.WARNING)  # the notices sent inline, without a broker, log each
    try:
        client = platform.app.test_client()
        start = client.get("/auth/login/devidp")
        client.get(choose(start.headers["Location"], PEOPLE[0]))
        form = client.get(f"/apply/{ITEM}")
        token = CSRF_TOKEN.search(form.text).group(1)
        pdf = pdf_bytes()

        def submit(key: str) -> float:
            data = {**post_fields(token, key), "material_premises": (io.BytesIO(pdf), "lease.pdf", "application/pdf")}
            cpu = time.process_time()
            answer = client.post(f"/apply/{ITEM}", data=data, content_type="multipart/form-data")
            cpu = time.process_time() - cpu
            assert answer.status_code in (302, 303) and "/cases/" in answer.headers["Location"], answer.status_code
            return cpu

        with platform.app.app_context():
            variant.setup(platform.app)
        for i in range(20):  # warm: both variants fill the process's caches
            variant.toggle(i % 2 == 0)
            submit(uuid.uuid4().hex)
        first, again = {True: [], False: []}, {True: [], False: []}
        for i in range(args.count):
            new = i % 4 in (0, 3)  # A B B A
            variant.toggle(new)
            key = uuid.uuid4().hex
            first[new].append(submit(key))
            if i % 5 == 0:
                again[new].append(submit(key))
        print(f"{args.count} submissions in one process, the variants alternated A B B A (ms CPU each):")
        for new in (True, False):
            print(
                f"  {variant.NAMES[new]:40} median {statistics.median(first[new]) * 1000:6.3f}, "
                f"mean {statistics.mean(first[new]) * 1000:6.3f}; sent again: median "
                f"{statistics.median(again[new]) * 1000:6.3f}"
            )
        ratio = statistics.median(first[True]) / statistics.median(first[False])
        print(f"{variant.NAMES[True]} ÷ {variant.NAMES[False]}: {ratio:.3f} (medians)")
    finally:
        server.shutdown()
        platform.close()


if __name__ == "__main__":
    main()
