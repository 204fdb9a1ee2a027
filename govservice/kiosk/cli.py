"""`flask kiosk register|list|revoke`: terminals kept from the command line, through the same
services as /admin/kiosks (the server's operator acts; the audit log says so)."""

from __future__ import annotations

import click
from sqlalchemy import select

from ..core.extensions import db
from ..identity.models import ServiceHall
from . import services


def register_commands(bp) -> None:
    @bp.cli.command("register")
    @click.option("--name", required=True, help="终端名称, e.g. 一层大厅 1号机")
    @click.option("--hall", "hall_code", required=True, help="the service hall's code, e.g. cy-zwfwzx")
    @click.option("--reader-key", type=click.File("r"), help="the reader agent's P-256 public key (PEM)")
    def register(name, hall_code, reader_key):
        """Register a terminal and print its one-time enrollment code."""
        hall = db.session.execute(select(ServiceHall).where(ServiceHall.code == hall_code)).scalar_one_or_none()
        if hall is None:
            raise click.ClickException(f"no service hall {hall_code!r}")
        try:
            device, code = services.register(None, name, hall.id, reader_key.read() if reader_key else "")
        except services.KioskError as exc:
            raise click.ClickException(str(exc.message)) from None
        click.echo(f"terminal {device.id} ({device.name}, {hall.name}): enrollment code {code}")
        click.echo(f"valid until {device.enrollment_expires_at.isoformat()}; enter it at /kiosk/enroll on the terminal")

    @bp.cli.command("list")
    def list_():
        """The registered terminals."""
        for d in services.devices():
            seen = d.last_seen_at.isoformat() if d.last_seen_at else "-"
            click.echo(f"{d.id}\t{d.status}\t{d.hall.code}\t{d.name}\tlast seen {seen}")

    @bp.cli.command("revoke")
    @click.argument("device_id", type=int)
    def revoke(device_id):
        """Disable a terminal at once."""
        try:
            device = services.revoke(None, device_id)
        except services.KioskError as exc:
            raise click.ClickException(str(exc.message)) from None
        click.echo(f"terminal {device.id} ({device.name}) disabled")
