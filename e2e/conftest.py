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

from govservice import create_app
from govservice.app import demo, migrate
from govservice.core.extensions import db
from govservice.identity.devidp import create_idp_app, serve_in_thread

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
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
    app = platform_app(instance_dir, database_url, idp_url, public_url)
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


def platform_app(instance_dir: str, database_url: str, idp_url: str, base_url: str):
    """An app object on the live server's instance and database: the one it serves, and another
    for a test to prepare data or read its routes."""
    return create_app(
        {
            "INSTANCE_DIR": instance_dir,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "BLOB_DIR": f"{instance_dir}/blobs",
            "DEV_IDP_URL": idp_url,
            "PUBLIC_URL": base_url,
        }
    )


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

AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
# Runs in every page of the platform once it has loaded: axe-core's checks (WCAG 2.x A and AA and
# axe's best practices), the violations reported back to the test through an exposed binding.
AXE_RUNNER = """
(() => {
  if (window.top !== window || !window.axe || !window.__axeOrigin || location.origin !== window.__axeOrigin) return;
  window.__axeDone = new Promise((resolve) => {
    const run = () => window.axe.run(document, {resultTypes: ['violations']})
      .then((r) => window.__axeReport(location.pathname + location.search, window.innerWidth,
                                      r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
                                        nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' '))}))))
      .catch(() => null).then(resolve);
    if (document.readyState === 'complete') run(); else window.addEventListener('load', run, {once: true});
  });
})();
"""


def _require_axe() -> str:
    if not AXE.exists():
        pytest.fail("axe-core is not installed: run e2e/axe/install.sh (npm ci from e2e/axe/package-lock.json)")
    return AXE.read_text(encoding="utf-8")


def axe_violations(page) -> list:
    """Run axe-core on the page as it is now and return its violations (for a state reached
    without a page load: a form shown with its errors, a phone layout). The page's own run, begun
    when it loaded, is awaited first: axe-core runs one at a time."""
    return page.evaluate("""() => Promise.resolve(window.__axeDone)
      .then(() => window.axe.run(document, {resultTypes: ['violations']}))
      .then((r) => r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
                                              nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' '))})))""")


@pytest.fixture
def new_context(browser, base_url):
    """Opens browser contexts (one per person) in Chinese, all closed after the test.

    Every page of the platform a context loads is checked by axe-core, and no page may violate the
    Content-Security-Policy; either fails the test (axe's with the page, the width and the elements)."""
    axe_source = _require_axe()
    opened, found, checked, violations = [], [], [], []

    def listen(message):
        text = message.text
        if message.type == "error" and ("CSP violation" in text or "Content Security Policy" in text):
            violations.append(text)

    def report(source, path, width, problems):
        checked.append(path)
        found.extend((path, width, v) for v in problems)

    def open_context(**options):
        options = {
            "locale": "zh-CN",
            "timezone_id": "Asia/Shanghai",
            "base_url": base_url,
            "viewport": {"width": 1280, "height": 900},
            "accept_downloads": True,
            **options,
        }
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        context.add_init_script(REPORT_CSP)
        context.on("console", listen)
        context.expose_binding("__axeReport", report)
        context.add_init_script(axe_source)
        context.add_init_script(f"window.__axeOrigin = {base_url!r};" + AXE_RUNNER)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        for page in context.pages:
            try:
                page.evaluate("() => window.__axeDone || null")
            except Exception:  # a page closed or navigating: what it reported is kept
                pass
        context.close()
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)
    if found:
        lines = [
            f"{path} @{width}px: {v['impact']} {v['id']} ({v['help']}) at {', '.join(v['nodes'])}"
            for path, width, v in found
        ]
        pytest.fail("axe-core found accessibility violations:\n" + "\n".join(dict.fromkeys(lines)), pytrace=False)


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
