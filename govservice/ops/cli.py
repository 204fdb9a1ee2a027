"""`flask govservice tick` (the timers, once) and `flask govservice backup ...`."""

from __future__ import annotations

import sys
import time

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from . import backup


@click.command("tick")
@click.option("--only", multiple=True, metavar="NAME", help="run only this entry of the schedule (repeatable)")
@click.option("--every", type=float, default=None, metavar="SECONDS", help="keep running, once every SECONDS")
@with_appcontext
def tick(only, every):
    """Run every periodic task of the Celery beat schedule once, here and now (the embedded
    default's timers: call it from cron). Exit 1 if any failed."""
    while True:
        failed = run_schedule(only, echo=click.echo)
        if every is None:
            sys.exit(1 if failed else 0)
        time.sleep(every)


def run_schedule(only=(), echo=None) -> list[str]:
    """Each entry of the beat schedule, run in this process (eagerly, whatever the broker);
    returns the names of those that failed. The schedule is read, never repeated here: a task
    added to it (by any domain) is ticked too."""
    celery = current_app.extensions["celery"]
    celery.loader.import_default_modules()
    schedule = celery.conf.beat_schedule
    unknown = set(only) - set(schedule)
    if unknown:
        raise click.UsageError(f"not in the beat schedule: {', '.join(sorted(unknown))} (known: {', '.join(schedule)})")
    failed = []
    for name, entry in schedule.items():
        if only and name not in only:
            continue
        started = time.perf_counter()
        result = celery.tasks[entry["task"]].apply(
            args=entry.get("args", ()), kwargs=entry.get("kwargs", {}), throw=False
        )
        took = (time.perf_counter() - started) * 1000
        if result.failed():
            failed.append(name)
            current_app.logger.error("tick: %s (%s) failed: %r", name, entry["task"], result.result)
        if echo is not None:
            echo(
                f"{name}\t{entry['task']}\t{'FAILED ' + repr(result.result) if result.failed() else result.result}"
                f"\t{took:.0f} ms"
            )
    return failed


backup_group = AppGroup("backup", help="容灾备份: the database, the blob store and the keys, in one archive.")


@backup_group.command("create")
@click.argument("archive", type=click.Path(dir_okay=False, writable=True))
@click.option("--without-keys", is_flag=True, help="leave instance/keys out (keys kept in a vault or the environment)")
@with_appcontext
def backup_create(archive, without_keys):
    """Back up the database and the blob store, consistently, into ARCHIVE (.tar.gz)."""
    try:
        manifest = backup.create(archive, with_keys=not without_keys)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"wrote {archive}: {manifest['dialect']} database at revision {manifest['revision']}, "
        f"{manifest['blobs']} blobs{', the keys' if manifest['keys'] else ', no keys'} "
        "(it holds secrets: keep it as you keep the keys)"
    )


@backup_group.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def backup_restore(archive):
    """Restore ARCHIVE into the (empty) database, blob folder and instance folder configured."""
    try:
        manifest = backup.restore(archive)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"restored {archive} (made {manifest['created_at']}): revision {manifest['revision']}, "
        f"{manifest['blobs']} blobs; check it with `flask --app app govservice audit verify`"
    )
