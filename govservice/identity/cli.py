"""`flask --app app govservice identity ...`: operations on staff and sessions, calling the same
services as the web."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..core import clock
from . import staff
from .sessions import store

group = AppGroup("identity", help="People, staff roles and sessions.")


@group.command("staff-add")
@click.option("--id-number", required=True, help="the person's citizen ID number")
@click.option("--name", required=True, help="the person's name, as on the ID card")
@click.option("--role", required=True, type=click.Choice(["clerk", "officer", "supervisor", "admin"]))
@click.option("--department", default=None, help="department code (officers; none = all departments)")
@click.option("--hall", default=None, help="service hall code (clerks)")
def staff_add(id_number, name, role, department, hall):
    """Give a person a staff role: how the first administrator is made."""
    try:
        assignment = staff.assign(None, id_number, name, role, department, hall)
    except staff.StaffError as exc:
        raise click.ClickException(str(exc.message)) from None
    click.echo(f"{assignment.person.masked_name}\t{role}\t{department or ''}\t{hall or ''}")


@group.command("staff-list")
def staff_list():
    """One line per staff role: masked name, masked ID number, role, department, hall, source."""
    for a in staff.assignments():
        click.echo(
            f"{a.person.masked_name}\t{a.person.masked_id_number}\t{a.role}\t"
            f"{a.department.code if a.department else ''}\t{a.hall.code if a.hall else ''}\t{a.source}"
        )


@group.command("purge-sessions")
def purge_sessions():
    """Delete ended sessions from the database store (Redis expires them by itself)."""
    click.echo(f"{store().purge(clock.now())} ended sessions deleted")
