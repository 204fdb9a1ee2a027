"""Hello world with and without the request hooks of govservice/ops (request id, latency
histogram, access line, the unreadable-session check), for bench/ops_hooks.py:
`gunicorn -c gunicorn.conf.py bench.ops_hello:plain` / `bench.ops_hello:hooked`."""

import os

from flask import Flask


def _hello_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def hello():
        return "hello, world"

    return app


plain = _hello_app()

hooked = _hello_app()
hooked.config.update(LOG_FORMAT="json", LOG_REQUESTS=os.environ.get("LOG_REQUESTS", "1") == "1")
from govservice.ops import _begin_request, faults, requestlog  # noqa: E402  (after PROMETHEUS_MULTIPROC_DIR)

faults.init_app(hooked)
requestlog.init_app(hooked)
hooked.before_request(_begin_request)
