"""`flask --app app govservice keys ...`: the token signing keys (the certificate commands
`certificates list` and `certificates export` live in govservice/app/cli.py)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ..audit import services as audit
from ..core.extensions import db

keys_group = AppGroup("keys", help="QR token signing keys (ES256, published at /.well-known/jwks.json).")


@keys_group.command("rotate")
def keys_rotate():
    """Add a new signing key; it signs from now on, and the old keys stay published for verification."""
    store = current_app.extensions["token_keys"]
    previous = store.active_kid
    kid = store.rotate()
    audit.record("certificate.keys.rotate", detail={"new": kid, "previous": previous})
    db.session.commit()
    click.echo(f"new signing key {kid} (previous {previous} kept for verification)")
    click.echo(f"{len(store.kids())} keys published at /.well-known/jwks.json")


@keys_group.command("list")
def keys_list():
    """Every published key, the active signer first."""
    store = current_app.extensions["token_keys"]
    for index, kid in enumerate(store.kids()):
        click.echo(f"{kid}\t{'active' if index == 0 else 'verification only'}")
