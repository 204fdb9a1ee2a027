"""`flask --app app govservice holidays ...`: the days an administrator enters for years the
holiday calendar library does not know yet (deadlines there are provisional)."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from . import services

holidays_group = AppGroup("holidays", help="Holidays and make-up working days for unannounced years.")


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


@holidays_group.command("add")
@click.argument("day")
@click.argument("name")
@click.option("--working", is_flag=True, help="a make-up working day (调休上班) instead of a holiday")
def add(day, name, working):
    """Enter DAY (YYYY-MM-DD) as the holiday NAME, or with --working as a make-up working day."""
    try:
        services.add_holiday(None, _day(day), name, working=working)
    except services.CalendarError as exc:
        raise click.ClickException(str(exc.message)) from None
    click.echo(f"{day}\t{name}\t{'working day' if working else 'holiday'}")


@holidays_group.command("remove")
@click.argument("day")
def remove(day):
    """Remove the entry for DAY."""
    try:
        services.remove_holiday(None, _day(day))
    except services.CalendarError as exc:
        raise click.ClickException(str(exc.message)) from None
    click.echo(f"removed {day}")


@holidays_group.command("list")
def list_():
    """Every entered day: date, name, holiday or working day."""
    for h in services.holidays():
        click.echo(f"{h.day.isoformat()}\t{h.name}\t{'working day' if h.working else 'holiday'}")
