"""Unified identity (统一身份认证): people known by their ID number across OpenID Connect
providers, enterprises and their agents, staff roles, server-side sessions."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from ..core import clock, pii


def init_app(app: Flask) -> None:
    from . import access, people, providers, sessions

    people.watch_people()
    providers.init_app(app)
    sessions.init_app(app)
    access.init_app(app)
    app.add_template_filter(_last_day, "last_day")
    app.add_template_filter(pii.mask_phone, "mask_phone")


def _last_day(moment) -> str:
    """The last Beijing day covered by a validity ending at `moment` (exclusive)."""
    return (moment - timedelta(microseconds=1)).astimezone(clock.BEIJING).date().isoformat() if moment else ""
