"""govservice: integrated online government services (一网通办)."""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

from flask import Flask, has_request_context, session
from sqlalchemy.orm import configure_mappers

from .core import config as config_module
from .core import process  # noqa: F401  (first: it sets up the metrics values before any metric exists)
from .core.config import LOCALES
from .core.extensions import babel, csrf, db, limiter, login_manager
from .core.formparser import Request
from .core.keys import instance_secret


class GovService(Flask):
    """Flask, asking once per function whether a hook or view is a coroutine: Flask asks on every
    call (`inspect.iscoroutinefunction`), for each of the 15 hooks a request passes through. Its
    requests parse multipart forms with core.formparser."""

    request_class = Request

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sync: dict = {}

    def ensure_sync(self, func):
        try:
            return self._sync[func]
        except KeyError:
            wrapped = self._sync[func] = super().ensure_sync(func)
            return wrapped


def create_app(test_config: dict | None = None) -> Flask:
    root = config_module.ROOT
    app = GovService(
        __name__,
        instance_path=os.environ.get("GOVSERVICE_INSTANCE", str(root / "instance")),
        template_folder=str(root / "templates"),
        static_folder=str(root / "static"),
    )
    try:
        app.config.update(config_module.from_environment(app.instance_path))
        if test_config:
            app.config.update(test_config)
        from . import ops

        ops.settings.check_secrets(app.config, os.environ)
        _load_secrets(app)
        ops.configure(app)
    except config_module.ConfigError as exc:  # one line naming the setting, not a traceback
        raise SystemExit(f"govservice: configuration error: {exc}") from None
    Path(app.config["INSTANCE_DIR"]).mkdir(parents=True, exist_ok=True)
    app.config["MAX_CONTENT_LENGTH"] = (app.config["MAX_UPLOAD_MB"] + 1) * 1024 * 1024
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(root / "govservice" / "translations"))
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("govservice").setLevel(logging.INFO)

    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "identity.login"
    login_manager.login_message = None  # a flash would store a session for every crawler; the login page says it
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    limiter.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)

    from .app.models_registry import import_all_models

    import_all_models()
    from .app import celery_app
    from .core import redis_link

    redis_link.init_app(app)
    from .core import mirror

    mirror.init_app(app)
    celery_app.init_app(app)
    from .cases import services as case_services

    case_services.init_app(app)  # completes a case when certificates report its result issued
    from .identity import services as identity_services

    identity_services.init_app(app)
    from .registry import services as registry_services

    registry_services.init_app(app)
    from .notify import services as notify_services

    notify_services.init_app(app)  # before certificates: "approved" is noticed before "completed"
    from .certificates import services as certificate_services

    certificate_services.init_app(app)
    from .certificates import tasks as certificate_tasks

    certificate_tasks.init_app(app)  # an approval queues its certificate (after notify's listener)
    from .certificates import verification

    verification.init_app(app)
    from .partners import services as partner_services

    partner_services.init_app(app)
    from .bundles import services as bundle_services

    bundle_services.init_app(app)
    from .audit import sealer as audit_sealer

    audit_sealer.init_app(app)
    from . import security

    security.init_app(app)  # after identity: the CSP's form-action names the configured providers
    from .progress import services as progress_services

    progress_services.init_app(app)
    from .catalog import services as catalog_services

    catalog_services.init_app(app)

    from .app.views import bp as main_bp
    from .cases.views import bp as cases_bp
    from .catalog.views import bp as catalog_bp
    from .certificates.views import bp as certificates_bp
    from .identity.views import bp as identity_bp
    from .review.views import bp as review_bp
    from .window.views import bp as window_bp

    for bp in (main_bp, identity_bp, catalog_bp, cases_bp, window_bp, review_bp, certificates_bp):
        app.register_blueprint(bp)
    from .identity.admin_views import bp as staff_admin_bp
    from .identity.enterprise_views import bp as enterprise_bp

    app.register_blueprint(enterprise_bp)
    from .progress.views import bp as progress_bp

    app.register_blueprint(progress_bp)
    app.register_blueprint(staff_admin_bp)
    from .partners.api import bp as partners_api_bp
    from .partners.views import bp as partners_bp

    app.register_blueprint(partners_api_bp)
    app.register_blueprint(partners_bp)
    from .supervision.views import bp as supervision_bp

    app.register_blueprint(supervision_bp)
    from .supervision.card_views import bp as cards_bp

    app.register_blueprint(cards_bp)
    from .bundles.views import bp as bundles_bp

    app.register_blueprint(bundles_bp)
    from .petitions.views import bp as petitions_bp

    app.register_blueprint(petitions_bp)
    from .opendata.views import bp as opendata_bp

    app.register_blueprint(opendata_bp)
    from .kiosk.views import bp as kiosk_bp  # 自助终端 (issue 14)

    app.register_blueprint(kiosk_bp)
    from .notify.views import bp as notify_bp

    app.register_blueprint(notify_bp)
    from .audit.views import bp as audit_bp
    from .audit.views import staff_bp as audit_log_bp

    app.register_blueprint(audit_bp)
    app.register_blueprint(audit_log_bp)

    ops.init_app(app)
    from .app.cli import register as register_cli

    register_cli(app)
    from .app.templating import register as register_filters

    register_filters(app)
    from .app.errors import register as register_errors

    register_errors(app)
    security.trust_proxies(app)
    # the ORM's mappers set up now, once, in the process that builds the app: a preloading gunicorn
    # master hands them to every worker instead of each worker's first request building them
    # (about 0.3 s of CPU, again after every max_requests recycle)
    configure_mappers()
    return app


def _load_secrets(app: Flask) -> None:
    inst = app.config["INSTANCE_DIR"]
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret(inst, "secret_key", "SECRET_KEY")
    app.config.setdefault(
        "DATA_KEYS",
        [k for k in os.environ.get("DATA_KEYS", "").split(",") if k] or [instance_secret(inst, "data_key", "DATA_KEY")],
    )
    app.config.setdefault("ID_HASH_KEY", instance_secret(inst, "id_hash_key", "ID_HASH_KEY"))


def _select_locale():
    """Simplified Chinese unless the person chose English (the language switch, kept in the session).

    A `babel.Locale`, made once per language: Flask-Babel parses a string the selector answers on
    every request (babel's `Locale.parse`, a good part of a verification's time)."""
    if not has_request_context():  # services run from the CLI and jobs too
        return _locale("zh_Hans_CN")
    chosen = session.get("lang")
    return _locale(chosen if chosen in LOCALES else "zh_Hans_CN")


@functools.cache
def _locale(name: str):
    from babel import Locale

    return Locale.parse(name)
