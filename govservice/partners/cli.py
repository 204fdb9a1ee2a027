"""`flask --app app govservice partners ...`: registering partner systems (OAuth2 clients)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from . import demo, services
from .models import SCOPES

partners_group = AppGroup("partners", help="Partner systems of other departments (OAuth2 client credentials).")


@partners_group.command("register")
@click.option("--name", required=True, help="the partner's system, e.g. 公共场所卫生许可审批系统")
@click.option("--organisation", required=True, help="the partner department, e.g. 卫生健康委员会")
@click.option(
    "--scope", "scopes", multiple=True, required=True, type=click.Choice(list(SCOPES)), help="repeat for several scopes"
)
def register(name, organisation, scopes):
    """Register a partner system; prints its client_id and secret (shown once, stored hashed)."""
    try:
        client, secret = services.register_client(name, organisation, scopes)
    except services.PartnerError as exc:
        raise click.ClickException(str(exc.message)) from None
    click.echo(f"client_id:     {client.client_id}")
    click.echo(f"client_secret: {secret}")
    click.echo(f"scope:         {client.scope}")
    click.echo("The secret is not stored: hand it over now.")


@partners_group.command("list")
def list_clients():
    """client_id, organisation, system, scopes, state."""
    for c in services.clients():
        click.echo(f"{c.client_id}\t{c.organisation}\t{c.name}\t{c.scope}\t{'active' if c.active else 'disabled'}")


@partners_group.command("rotate-secret")
@click.argument("client_id")
def rotate_secret(client_id):
    """Give CLIENT_ID a new secret; the old one and its tokens stop working at once."""
    try:
        client, secret = services.rotate_secret(client_id)
    except services.PartnerError as exc:
        raise click.ClickException(str(exc.message)) from None
    click.echo(f"client_id:     {client.client_id}")
    click.echo(f"client_secret: {secret}")


@partners_group.command("disable")
@click.argument("client_id")
def disable(client_id):
    """Disable CLIENT_ID: no new tokens, and its tokens stop working at once."""
    try:
        services.disable_client(client_id)
    except services.PartnerError as exc:
        raise click.ClickException(str(exc.message)) from None
    click.echo(f"disabled {client_id}")


@partners_group.command("demo")
def demo_credentials():
    """The demo partner's credentials (after `govservice demo`) and how to call the API with them."""
    client_id, secret = demo.credentials()
    for line in demo.usage(current_app.config["PUBLIC_URL"], client_id, secret):
        click.echo(line)
