"""End-to-end fixtures: the platform and the development identity provider, both live over
HTTP on free loopback ports, and a real Chromium driven by Playwright (sync API, plain pytest).

The database is SQLite in a temporary instance folder, or PostgreSQL when DATABASE_URL is set
(its public schema is dropped and recreated first, as the unit suite does). The schema comes
from the Alembic migrations and the catalogue and staff roles from the demo data, exactly as
`make run` would set them up. CSRF protection and rate limiting stay on: this is the path a
real browser takes.

Playwright never downloads a browser here: Debian's Chromium is launched from its path.
"""
from __future__ import annotations

import io
import os
import socket
import threading
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import text
from werkzeug.serving import make_server

from govservice import create_app, demo, migrate
from govservice.extensions import db
from govservice.identity.devidp import create_idp_app, serve_in_thread

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("e2e-instance"))


@pytest.fixture(scope="session")
def database_url(instance_dir) -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{instance_dir}/e2e.sqlite"


@pytest.fixture(scope="session")
def idp_url(instance_dir):
    """The development identity provider, live on a free port; its issuer URL."""
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    server, thread = serve_in_thread(create_idp_app(issuer, instance_dir), "127.0.0.1", port)
    yield issuer
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def base_url(instance_dir, database_url, idp_url):
    """The platform, migrated, with the demo data, served live on a free port; its base URL."""
    port = _free_port()
    public_url = f"http://127.0.0.1:{port}"
    app = create_app({
        "INSTANCE_DIR": instance_dir,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "BLOB_DIR": f"{instance_dir}/blobs",
        "DEV_IDP_URL": idp_url,
        "PUBLIC_URL": public_url,
    })
    assert app.config.get("WTF_CSRF_ENABLED", True), "the browser path must run with CSRF protection"
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        migrate.upgrade()
        demo.load()
        db.session.remove()
        db.engine.dispose()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"govservice-{port}", daemon=True)
    thread.start()
    yield public_url
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield chromium
    chromium.close()
    playwright.stop()


#: Reports every Content-Security-Policy violation of a page on the console, where the context hears it.
REPORT_CSP = """document.addEventListener('securitypolicyviolation', e =>
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI + ' on ' + e.documentURI));"""


@pytest.fixture
def new_context(browser, base_url):
    """Opens browser contexts (one per person) in Chinese, all closed after the test; no page of
    the test may violate the Content-Security-Policy (checked when the test ends)."""
    opened, violations = [], []

    def listen(message):
        text = message.text
        if message.type == "error" and ("CSP violation" in text or "Content Security Policy" in text):
            violations.append(text)

    def open_context(**options):
        options = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai", "base_url": base_url,
                   "viewport": {"width": 1280, "height": 900}, "accept_downloads": True, **options}
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        context.add_init_script(REPORT_CSP)
        context.on("console", listen)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        context.close()
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


@pytest.fixture(scope="session")
def screenshot():
    """Saves a full-page screenshot as e2e/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture(scope="session")
def premises_pdf(tmp_path_factory) -> Path:
    """A small real PDF to upload as 经营场所使用证明."""
    from reportlab.pdfgen import canvas
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "Lease agreement: Beijing, Chaoyang, Example Road 8")
    page.save()
    path = tmp_path_factory.mktemp("uploads") / "premises-lease.pdf"
    path.write_bytes(buffer.getvalue())
    return path
