"""`flask --app app govservice ...`: operations, each calling the same services as the web."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

group = AppGroup("govservice", help="govservice operations.")
db_group = AppGroup("db", help="Database schema (Alembic).")
catalog_group = AppGroup("catalog", help="The service catalogue.")
certificates_group = AppGroup("certificates", help="Electronic certificates.")
group.add_command(db_group)
group.add_command(catalog_group)
group.add_command(certificates_group)
from govservice.certificates.cli import keys_group  # noqa: E402
from govservice.partners.cli import partners_group  # noqa: E402

group.add_command(keys_group)
group.add_command(partners_group)
from govservice.calendar.cli import holidays_group  # noqa: E402

group.add_command(holidays_group)
from govservice.audit.cli import audit_group  # noqa: E402

group.add_command(audit_group)
from govservice.security.cli import blobs_group  # noqa: E402

group.add_command(blobs_group)
from govservice.identity.cli import group as identity_group  # noqa: E402
from govservice.ops.cli import backup_group, tick  # noqa: E402

group.add_command(identity_group)
group.add_command(tick)
group.add_command(backup_group)


@db_group.command("upgrade")
def db_upgrade():
    """Apply every Alembic migration."""
    from govservice.app import migrate  # Alembic: only in the command that needs it

    migrate.upgrade()
    click.echo("database is at the latest revision")


@group.command("demo")
def demo():
    """Load the demo data (catalogue, staff roles); running it twice changes nothing."""
    from govservice.app import demo as demo_module

    for line in demo_module.load():
        click.echo(line)


@catalog_group.command("sync")
def catalog_sync():
    """Load `items/*.toml` into the catalogue; a changed item gets a new version."""
    from govservice.catalog import services
    from govservice.catalog.definitions import ItemFileError

    try:
        report = services.sync()
    except ItemFileError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged")


@catalog_group.command("list")
def catalog_list():
    """One line per current item: code, name, department."""
    from govservice.catalog import services

    for item in services.list_items():
        click.echo(f"{item.code}\t{item.name}\t{item.department.name}")


@catalog_group.command("search")
@click.argument("words")
def catalog_search(words):
    """The items a search finds, best first: code, name, department."""
    from govservice.catalog import services

    for item in services.find(words):
        click.echo(f"{item.code}\t{item.name}\t{item.department.name}")


registry_group = AppGroup("registry", help="The base registries (population, legal persons).")
group.add_command(registry_group)


@registry_group.command("generate")
@click.option("--people", default=10, type=int, help="how many people")
@click.option("--enterprises", default=0, type=int, help="how many enterprises")
@click.option("--seed", default=11643, type=int)
def registry_generate(people, enterprises, seed):
    """Print deterministic development records as JSON lines (the same seed, the same records)."""
    import json

    from govservice.registry import devdata

    persons = devdata.generate_people(people, seed)
    for record in persons:
        click.echo(json.dumps({"population": record.as_dict()}, ensure_ascii=False))
    for record in devdata.generate_enterprises(enterprises, persons or devdata.DEMO_PEOPLE, seed):
        click.echo(json.dumps({"legal_person": record.as_dict()}, ensure_ascii=False))


@certificates_group.command("list")
def certificates_list():
    """Every certificate: identifier, type, status, issued date."""
    from govservice.certificates import services
    from govservice.certificates.models import Certificate
    from govservice.core.extensions import db

    for c in db.session.execute(db.select(Certificate).order_by(Certificate.id)).scalars():
        click.echo(
            f"{c.identifier}\t{services.certificate_type(c.type_code).name}\t{services.status_of(c)}\t"
            f"{c.issued_at.date().isoformat()}"
        )


@certificates_group.command("retry")
def certificates_retry():
    """Issue the certificates of approved cases whose signing failed (e.g. the TSA was down)."""
    from govservice.certificates import services

    done = services.retry_pending()
    click.echo(f"issued the certificates of {len(done)} cases" + (f": {done}" if done else ""))


@certificates_group.command("export")
@click.argument("identifier")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def certificates_export(identifier, path):
    """Write the signed PDF of IDENTIFIER to PATH."""
    from govservice.certificates import services

    certificate = services.find(identifier)
    if certificate is None:
        raise click.ClickException(f"no certificate {identifier}")
    with open(path, "wb") as fh:
        fh.write(services.pdf_bytes(certificate))
    click.echo(f"wrote {path}")


@group.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--idp-port", default=5001, type=int)
def serve(host, port, idp_port):
    """Start the development identity provider beside the app (what `make run` does)."""
    from govservice.identity.devidp import create_idp_app, serve_in_thread

    app = current_app._get_current_object()
    idp = create_idp_app(app.config["DEV_IDP_URL"], app.config["INSTANCE_DIR"])
    serve_in_thread(idp, host, idp_port)
    click.echo(f"\n  govservice:          {app.config['PUBLIC_URL']}/")
    click.echo(f"  identity provider:   {app.config['DEV_IDP_URL']}/  (development only)")
    click.echo("  demo logins (choose on the provider's page):")
    from govservice.identity.devidp.identities import IDENTITIES

    for identity in IDENTITIES:
        click.echo(f"    {identity['name']:4}  {identity['description']}")
    from govservice.partners import demo as partners_demo

    client_id, secret = partners_demo.credentials()
    click.echo(f"  demo partner system: client_id {client_id}, secret {secret}")
    click.echo("                       (`flask --app app govservice partners demo` shows how to call the API)")
    click.echo("")
    # Not app.run(): the flask command refuses to block in it.
    from werkzeug.serving import run_simple

    run_simple(host, port, app, threaded=True)


def register(app: Flask) -> None:
    app.cli.add_command(group)
