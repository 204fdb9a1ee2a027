"""Running the IdP inside another process, for the platform's dev runner and for tests."""

from __future__ import annotations

import threading

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server


def serve_in_thread(app: Flask, host: str, port: int) -> tuple[BaseWSGIServer, threading.Thread]:
    """Serve `app` from a daemon thread; stop it with `server.shutdown()`.

    The server is bound before this returns, so requests can be made at once. With port 0
    the system picks a free port: read it from `server.server_port`.
    """
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"devidp-{server.server_port}", daemon=True)
    thread.start()
    return server, thread
