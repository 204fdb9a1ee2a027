"""Fixtures of the identity tests: a second live development provider (another issuer, key,
client secret and subjects, the same people), and the scriptable stub provider."""

from __future__ import annotations

import socket
from types import SimpleNamespace

import pytest

from govservice.core.keys import instance_secret
from govservice.identity.devidp import create_idp_app, serve_in_thread

from .stub_provider import CLIENT_ID, CLIENT_SECRET, StubProvider


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def idp2(tmp_path_factory):
    """Another provider: the development IdP again, on another port with its own instance
    directory (so another signing key and client secret) and other subjects ("gov2-...")."""
    instance = str(tmp_path_factory.mktemp("idp2-instance"))
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    server, thread = serve_in_thread(create_idp_app(issuer, instance, subject_prefix="gov2-"), "127.0.0.1", port)
    yield SimpleNamespace(
        issuer=issuer, client_secret=instance_secret(instance, "devidp_client_secret", "DEV_IDP_CLIENT_SECRET")
    )
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def _stub_provider():
    provider = StubProvider()
    provider.serve()
    yield provider
    provider.stop()


@pytest.fixture
def stub(_stub_provider):
    """The stub provider, as new for each test (reset), at one issuer for the module: so the
    module's tests share one app, whose OIDC clients forget what they fetched after each test."""
    _stub_provider.reset()
    return _stub_provider


@pytest.fixture(scope="module")
def providers_dir(tmp_path_factory):
    """Where a module writes its OIDC_PROVIDERS_FILE: the same path for all its tests, so that
    they share one app (the `app` fixture's one app per distinct set of settings)."""
    return tmp_path_factory.mktemp("providers")


def devidp_spec(issuer: str, secret: str, title: str = "开发用身份提供方", **extra) -> dict:
    return {"title": title, "issuer": issuer, "client_id": "govservice", "client_secret": secret, **extra}


def stub_spec(stub: StubProvider, **extra) -> dict:
    return {
        "title": "测试身份提供方",
        "issuer": stub.issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        **extra,
    }
