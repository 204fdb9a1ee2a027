"""The development registry (population, legal persons, credit) served over HTTP, speaking the contract in `backends.py`.

Run it alone with `python -m govservice.registry --port 5002` and point the platform at it with
`REGISTRY_URL=http://127.0.0.1:5002`. Tests start it on a free port to exercise `HttpRegistry`
over a real socket.
"""  # noqa: E501

from __future__ import annotations

import hmac
import threading
from urllib.parse import unquote

from flask import Flask, abort, jsonify, request
from werkzeug.serving import make_server

from .backends import DevRegistry
from .credit import DevCreditRegistry


def create_registry_app(*, token: str = "", generated: int = 1000) -> Flask:
    app = Flask(__name__)
    registry, credit = DevRegistry(generated), DevCreditRegistry()
    app.config["QUERIES"] = []  # (path, purpose, case): what a registry operator's log would hold

    @app.before_request
    def check():
        if token and not hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}"):
            abort(401)
        purpose = unquote(request.headers.get("X-Purpose", ""))
        if not purpose:
            abort(400, "X-Purpose is required")
        app.config["QUERIES"].append((request.full_path, purpose, unquote(request.headers.get("X-Case", ""))))

    @app.get("/population/<id_number>")
    def population(id_number):
        found = registry.person(id_number, purpose="")
        return jsonify(found.as_dict()) if found else (jsonify(error="not found"), 404)

    @app.get("/legal-persons/<uscc>")
    def legal_person(uscc):
        found = registry.legal_person(uscc, purpose="")
        return jsonify(found.as_dict()) if found else (jsonify(error="not found"), 404)

    @app.get("/legal-persons")
    def by_representative():
        number = request.args.get("representative", "")
        return jsonify(items=[e.as_dict() for e in registry.represented_by(number, purpose="")])

    @app.get("/credit/<any(persons, enterprises):kind>/<subject>")
    def credit_record(kind, subject):
        return jsonify(
            credit.credit({"persons": "person", "enterprises": "enterprise"}[kind], subject, purpose="").as_dict()
        )

    return app


def serve_in_thread(app: Flask, host: str = "127.0.0.1", port: int = 0):
    """Serve `app` on (host, port) in a daemon thread; returns the server (`server.shutdown()` stops it)."""
    server = make_server(host, port, app, threaded=True)
    threading.Thread(target=server.serve_forever, name=f"registry-{server.server_port}", daemon=True).start()
    return server
