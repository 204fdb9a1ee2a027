"""What the registry tests share: the development registry served over HTTP, and a dead address."""

from __future__ import annotations

import socket

import pytest

from govservice.registry.devserver import create_registry_app, serve_in_thread


@pytest.fixture
def live_registry():
    """The development registry as another agency's HTTP service, on a free port: (url, its app)."""
    app = create_registry_app(token="s3cret", generated=10)
    server = serve_in_thread(app)
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()


def dead_url() -> str:
    """The URL of a port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"
