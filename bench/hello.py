"""The hello-world Flask application the HTTP benchmarks compare the platform against,
served by gunicorn with the project's own gunicorn.conf.py: `gunicorn -c gunicorn.conf.py bench.hello:app`."""

import itertools

from flask import Flask, redirect, request

app = Flask(__name__)
_numbers = itertools.count(1)  # per worker process: not unique across them


@app.get("/")
def hello():
    return "hello, world"


@app.post("/apply/<code>")
def apply(code):
    """The floor of a submission (bench/submit_http.py): the same multipart POST parsed, its
    upload read, answered with the platform's redirect; no session, no check, no SQL."""
    request.form.get("idempotency_key")
    for upload in request.files.values():
        upload.read()
    return redirect(f"/cases/{next(_numbers)}")
