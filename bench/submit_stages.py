"""Where a submission's CPU goes, stage by stage, in this process (no profiler's distortion).

    .venv/bin/python bench/submit_stages.py [--count 1500]

cProfile and py-spy both mislead here: cProfile's cost per call inflates code that makes many
small calls (a parser's callbacks, SQLAlchemy's layers) several times over, and py-spy counts a
thread waiting for PostgreSQL's answer as busy. This signs in through the development provider,
submits `--count` applications (the form of bench/submit_http.py, a small PDF) through Flask's
test client as deployed (Redis sessions, the notices queued for a worker that is not started),
and wraps each stage named below in a timer of the process's CPU time (`time.process_time`):
the figures are CPU a submission spends inside each, nested (a stage includes those below it),
then each before_request hook on its own.
"""

from __future__ import annotations

import argparse
import collections
import io
import os
import time
import uuid

from harness import Platform, free_port
from submit_http import CSRF_TOKEN, ITEM, PEOPLE, pdf_bytes, post_fields


def stages():
    """(object, attribute, label): what is timed, outermost first."""
    import flask.app
    import flask_wtf.form
    import psycopg
    import sqlalchemy.engine
    import sqlalchemy.orm

    from govservice.cases import applying, services, uploads, views
    from govservice.core import formparser, pii, rows
    from govservice.identity import sessions

    return [
        (flask.app.Flask, "full_dispatch_request", "Flask: hooks, view, response"),
        (sessions.ServerSessionInterface, "open_session", "  the session read (Redis, decrypt)"),
        (flask.app.Flask, "preprocess_request", "  before_request hooks (with the form's parse)"),
        (formparser.FormDataParser, "_parse_multipart", "    multipart parse"),
        (flask.app.Flask, "dispatch_request", "  the view"),
        (applying, "open_form", "    open_form (pre-fill, held certificates)"),
        (views, "application_form", "    the WTForms form"),
        (flask_wtf.form.FlaskForm, "validate_on_submit", "    validation (with CSRF)"),
        (applying, "submit_application", "    submit_application"),
        (uploads, "store_each", "      blobs written"),
        (pii, "encrypt_json", "      the answers encrypted"),
        (rows, "insert_one", "      the case's INSERT, its number drawn (with BEGIN)"),
        (rows, "loaded", "        the case as the session's object"),
        (services, "record", "      event and audit rows"),
        (rows, "commit", "      the kept rows and the COMMIT"),
        (services, "announce", "      after the commit: notices queued"),
        (flask.app.Flask, "process_response", "  after_request hooks, session save"),
        (sqlalchemy.orm.Session, "execute", "(SQLAlchemy Session.execute, all)"),
        (psycopg.Cursor, "execute", "(psycopg Cursor.execute, all)"),
        (psycopg.ClientCursor, "execute", "(psycopg ClientCursor.execute: the kept rows)"),
        (sqlalchemy.engine.Connection, "_execute_clauseelement", "(SQLAlchemy statement execution)"),
    ]


def timer(spent, original, label):
    def wrapper(*args, **kwargs):
        started = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] += time.process_time() - started

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1500)
    args = parser.parse_args()
    idp_port, app_port = free_port(), free_port()
    jobs = {}
    if os.environ.get("REDIS_URL"):  # as deployed: the notices go to a queue (nobody drains it here)
        jobs = {"CELERY_BROKER_URL": os.environ["REDIS_URL"], "CELERY_QUEUE": f"stages-{uuid.uuid4().hex[:8]}"}
    platform = Platform(DEV_IDP_URL=f"http://127.0.0.1:{idp_port}", PUBLIC_URL=f"http://127.0.0.1:{app_port}", **jobs)
    from govservice.identity.devidp import create_idp_app, serve_in_thread
    from govservice.identity.devidp.chooser import choose

    server, _thread = serve_in_thread(
        create_idp_app(f"http://127.0.0.1:{idp_port}", platform.folder), "127.0.0.1", idp_port
    )
    try:
        app = platform.app
        client = app.test_client()
        start = client.get("/auth/login/devidp")
        client.get(choose(start.headers["Location"], PEOPLE[0]))
        form = client.get(f"/apply/{ITEM}").text
        token = CSRF_TOKEN.search(form).group(1)
        pdf = pdf_bytes()

        def submit():
            data = {**post_fields(token, uuid.uuid4().hex), "material_premises": (io.BytesIO(pdf), "lease.pdf")}
            answer = client.post(f"/apply/{ITEM}", data=data, content_type="multipart/form-data")
            assert answer.status_code == 302, answer.status_code

        for _ in range(20):  # warm: the process's caches, psycopg's prepared statements
            submit()
        spent = collections.Counter()
        for obj, name, label in stages():
            setattr(obj, name, timer(spent, getattr(obj, name), label))
        app.wsgi_app = timer(spent, app.wsgi_app, "the app (WSGI call)")
        hooks = app.before_request_funcs[None]
        labels = [f"  before_request {hook.__module__}.{hook.__name__}" for hook in hooks]
        hooks[:] = [timer(spent, hook, label) for hook, label in zip(hooks, labels, strict=True)]
        started = time.process_time()
        for _ in range(args.count):
            submit()
        total = time.process_time() - started
        print(
            f"{args.count} submissions, CPU each (ms), with the test client's own work: {total / args.count * 1000:.2f}"
        )
        for label in ["the app (WSGI call)", *(label for _obj, _name, label in stages()), *labels]:
            print(f"  {spent[label] / args.count * 1000:6.3f}  {label}")
    finally:
        server.shutdown()
        platform.close()


if __name__ == "__main__":
    main()
