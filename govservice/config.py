"""Settings, read from the environment, with embedded defaults for `make run`.

Every setting here is listed in the README's configuration table.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_environment(instance_path: str) -> dict:
    env = os.environ
    instance = Path(env.get("GOVSERVICE_INSTANCE", instance_path))
    public_url = env.get("PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/")
    return {
        "ENV_NAME": env.get("GOVSERVICE_ENV", "development"),
        "INSTANCE_DIR": str(instance),
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL") or f"sqlite:///{instance / 'govservice.sqlite'}",
        "REDIS_URL": env.get("REDIS_URL", ""),
        "BLOB_DIR": env.get("BLOB_DIR", str(instance / "blobs")),
        "PUBLIC_URL": public_url,
        "DEV_IDP_URL": env.get("DEV_IDP_URL", "http://127.0.0.1:5001").rstrip("/"),
        "OIDC_PROVIDERS_FILE": env.get("OIDC_PROVIDERS_FILE", ""),
        "MAX_UPLOAD_MB": int(env.get("MAX_UPLOAD_MB", "10")),
        "REGION_CODE": env.get("REGION_CODE", "110105"),
        "CJK_FONT": env.get("CJK_FONT", ""),
        "CELERY_BROKER_URL": env.get("CELERY_BROKER_URL", ""),
        # Cookies travel over HTTPS only, except in development on plain http://127.0.0.1.
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"),
                                       env.get("GOVSERVICE_ENV", "development") != "development"),
        "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    }
