"""`flask govservice blobs rewrap`: after a new platform key heads DATA_KEYS."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..core import blobs

blobs_group = AppGroup("blobs", help="Stored files (uploaded materials, signed PDFs): encryption at rest.")


@blobs_group.command("rewrap")
def rewrap():
    """Re-wrap every blob's data key under the newest DATA_KEYS key (and seal files stored before
    encryption); the content is not re-encrypted. Then the old key may leave DATA_KEYS."""
    store = blobs.store()
    changed = total = 0
    unreadable = []
    for key in list(store.keys()):
        total += 1
        try:
            changed += store.rewrap(key)
        except blobs.BlobUnreadable:
            unreadable.append(key)
    click.echo(f"{changed} of {total} blobs re-wrapped under the newest key")
    if unreadable:
        click.echo(
            f"{len(unreadable)} blobs no DATA_KEYS key opens (keep the old key until they are re-wrapped):", err=True
        )
        for key in unreadable:
            click.echo(f"  {key}", err=True)
        raise SystemExit(1)
