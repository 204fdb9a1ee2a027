"""Template filters: Beijing time, masked personal data."""

from flask import Flask
from flask_babel import get_locale

from govservice.core import clock, pii


def register(app: Flask) -> None:
    @app.template_filter("localtime")
    def localtime(value):
        return value.astimezone(clock.BEIJING).strftime("%Y-%m-%d %H:%M") if value else ""

    app.jinja_env.globals["get_locale"] = get_locale
    app.add_template_filter(pii.mask_id_number, "mask_id")
    app.add_template_filter(pii.mask_name, "mask_name")
    app.add_template_filter(pii.mask_phone, "mask_phone")
