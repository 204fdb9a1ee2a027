"""Helpers for the identity tests: providers files, logging in through the stub provider."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import requests

from govservice.core.extensions import db


def providers_file(directory: Path, **providers: dict) -> str:
    """Write an OIDC_PROVIDERS_FILE with one [providers.<name>] table per keyword; its path."""
    lines = []
    for name, spec in providers.items():
        lines.append(f"[providers.{name}]")
        for key, value in spec.items():
            if isinstance(value, dict):
                inner = ", ".join(f'"{k}" = {v}' for k, v in value.items())
                lines.append(f"{key} = {{ {inner} }}")
            else:
                lines.append(f'{key} = "{value}"')
        lines.append("")
    path = Path(directory) / "providers.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return str(path)


def follow_to_callback(client, start):
    """From the platform's redirect to a provider that answers at once (the stub), back to the
    platform's callback; returns the callback's response."""
    assert start.status_code == 302, start.get_data(as_text=True)
    answer = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    callback = urlsplit(answer.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}")


def stub_login(client, provider: str = "stub"):
    return follow_to_callback(client, client.get(f"/auth/login/{provider}"))


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count()).select_from(model).where(*where)).scalar_one()


def audit_actions(app, prefix: str = "") -> list[str]:
    from govservice.audit.models import AuditEntry

    with app.app_context():
        return [
            a
            for (a,) in db.session.execute(db.select(AuditEntry.action).order_by(AuditEntry.id))
            if a.startswith(prefix)
        ]


def audit_entries(app, action: str) -> list:
    from govservice.audit.models import AuditEntry

    with app.app_context():
        rows = (
            db.session.execute(db.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
            .scalars()
            .all()
        )
        return [(r.actor_id, r.subject, dict(r.detail)) for r in rows]


def page(response) -> str:
    return response.get_data(as_text=True)
