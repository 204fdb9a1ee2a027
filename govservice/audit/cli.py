"""`flask --app app govservice audit ...`: seal, verify and list the checkpoints of the audit log."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..core import clock
from ..core.extensions import db
from . import checkpoint, sealer, services
from . import verify as verify_module
from .models import AuditCheckpoint

audit_group = AppGroup("audit", help="The tamper-evident audit log.")


@audit_group.command("verify")
@click.option("--chunk", default=5000, type=click.IntRange(100), show_default=True, help="entries read per query")
@click.option(
    "--checkpoint",
    "notes",
    multiple=True,
    type=click.File("r", encoding="utf-8"),
    help="a signed checkpoint kept outside (e.g. fetched from /audit/checkpoint); repeatable",
)
@click.option(
    "--max-lag", type=float, default=None, help="also fail if the oldest unsealed entry is older than this many seconds"
)
@click.option("--quiet", is_flag=True, help="no progress lines")
@click.pass_context
def verify(ctx, chunk, notes, max_lag, quiet):
    """Recompute every leaf and every checkpoint; name the first problem; exit 1 if there is one."""

    def progress(done):
        if not quiet and done % 100_000 < chunk:
            click.echo(f"  ... {done} entries", err=True)

    try:
        report = verify_module.verify(chunk=chunk, external=[(f.name, f.read()) for f in notes], progress=progress)
    except checkpoint.KeysMissing as exc:
        raise click.ClickException(str(exc)) from None
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        ctx.exit(1)
    if max_lag is not None and report.lag_seconds > max_lag:
        click.echo(f"FAILED: the sealer is {report.lag_seconds:.1f} s behind (more than {max_lag:g} s)")
        ctx.exit(2)


@audit_group.command("seal")
@click.option("--batch", type=click.IntRange(1), default=None, help="entries per checkpoint (AUDIT_SEAL_BATCH)")
@click.option("--max-batches", type=click.IntRange(1), default=None, help="stop after this many checkpoints")
def seal(batch, max_batches):
    """Seal the committed entries not yet in the tree, now."""
    try:
        result = sealer.seal(batch, max_batches)
    except sealer.SealerRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(str(result))


@audit_group.command("checkpoints")
@click.option("--limit", default=10, type=click.IntRange(1), show_default=True)
@click.option("--note", is_flag=True, help="print the latest signed note in full")
def checkpoints(limit, note):
    """The latest checkpoints: tree size, time (Beijing), root hash; and the sealer's lag."""
    from sqlalchemy import select

    rows = (
        db.session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(limit))
        .scalars()
        .all()
    )
    if not rows:
        click.echo("no checkpoint yet")
    for row in rows:
        click.echo(f"{row.tree_size}\t{row.created_at.astimezone(clock.BEIJING):%Y-%m-%d %H:%M:%S}\t{row.root_hash}")
    lag = services.lag()
    click.echo(f"unsealed: {lag.unsealed}" + (f", the oldest {lag.seconds:.1f} s old" if lag.unsealed else ""))
    click.echo(f"verifier key: {checkpoint.keys().vkey}")
    if note and rows:
        click.echo("")
        click.echo(rows[0].note, nl=False)
