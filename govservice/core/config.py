"""Settings, read from the environment, with embedded defaults for `make run`.

Every setting here is listed in the README's configuration table.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository: govservice/core/config.py

#: The languages of the pages: Simplified Chinese (the default) and English (the language switch).
LOCALES = ("zh_Hans_CN", "en")


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class ConfigError(ValueError):
    """A setting the platform cannot start with; the message names it."""


def _number(kind, name: str, default: str):
    value = os.environ.get(name) or default
    try:
        return kind(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a{'n integer' if kind is int else ' number'}") from None


def _int(name: str, default: str) -> int:
    return _number(int, name, default)


def _float(name: str, default: str) -> float:
    return _number(float, name, default)


def from_environment(instance_path: str) -> dict:
    env = os.environ
    instance = Path(env.get("GOVSERVICE_INSTANCE", instance_path))
    public_url = env.get("PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/")
    return {
        "ENV_NAME": env.get("GOVSERVICE_ENV", "development"),
        "INSTANCE_DIR": str(instance),
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL") or f"sqlite:///{instance / 'govservice.sqlite'}",
        "REDIS_URL": env.get("REDIS_URL", ""),
        # With Redis: hot-path reads kept in the process while a pub/sub subscription hears every
        # change (core/mirror.py), and what verifications answered from memory owe Redis pushed
        # every OUTBOX_INTERVAL seconds (certificates/outbox.py)
        "REDIS_MIRROR": env.get("REDIS_MIRROR", "1") == "1",
        "OUTBOX_INTERVAL": float(env.get("OUTBOX_INTERVAL", "0.02")),
        # the verification page and API answered outside Flask's request cycle when they can (ops/hotpath.py)
        "HOT_PATH": env.get("HOT_PATH", "1") == "1",
        "BLOB_DIR": env.get("BLOB_DIR", str(instance / "blobs")),
        "PUBLIC_URL": public_url,
        "DEV_IDP_URL": env.get("DEV_IDP_URL", "http://127.0.0.1:5001").rstrip("/"),
        "OIDC_PROVIDERS_FILE": env.get("OIDC_PROVIDERS_FILE", ""),
        "MAX_UPLOAD_MB": _int("MAX_UPLOAD_MB", "10"),
        "REGION_CODE": env.get("REGION_CODE", "110105"),
        "REGION_NAME": env.get("REGION_NAME", "北京市朝阳区"),  # printed before the issuer's name on certificates
        "CJK_FONT": env.get("CJK_FONT", ""),
        "OFD_SEAL_DIR": env.get("OFD_SEAL_DIR", ""),  # the OFD seal authority (certificates/seals.py)
        "CELERY_BROKER_URL": env.get("CELERY_BROKER_URL", ""),
        # the broker's queue (several deployments, or test runs, can share one Redis)
        "CELERY_QUEUE": env.get("CELERY_QUEUE", "celery"),
        # 一次性告知补正: working days the applicant has to supply what is missing (default deadline).
        "SUPPLEMENT_DAYS": _int("SUPPLEMENT_DAYS", "10"),
        # 到期提醒: days before its expiry a certificate's holder is told (the timer, once).
        "EXPIRY_NOTICE_DAYS": _int("EXPIRY_NOTICE_DAYS", "30"),
        # 好差评: working days a department's supervisor has to answer a rectification task.
        "RECTIFICATION_DAYS": _int("RECTIFICATION_DAYS", "15"),
        # Base registries (population, legal persons): unset, the development data in this process.
        "REGISTRY_URL": env.get("REGISTRY_URL", ""),
        "REGISTRY_TOKEN": env.get("REGISTRY_TOKEN", ""),
        "REGISTRY_TIMEOUT": _float("REGISTRY_TIMEOUT", "3"),
        "REGISTRY_DEV_GENERATED": _int("REGISTRY_DEV_GENERATED", "1000"),
        "CREDIT_REGISTRY_URL": env.get("CREDIT_REGISTRY_URL", ""),
        "CREDIT_REGISTRY_TOKEN": env.get("CREDIT_REGISTRY_TOKEN", ""),
        # E-mail notices: unset SMTP_HOST, messages are printed to the log (development).
        "SMTP_HOST": env.get("SMTP_HOST", ""),
        "SMTP_PORT": _int("SMTP_PORT", "587"),
        "SMTP_USER": env.get("SMTP_USER", ""),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD", ""),
        "SMTP_SECURITY": env.get("SMTP_SECURITY", "starttls"),  # starttls | ssl | none
        "SMTP_TIMEOUT": _float("SMTP_TIMEOUT", "10"),
        "MAIL_FROM": env.get("MAIL_FROM", "一网通办 <noreply@example.gov.cn>"),
        # SMS notices: unset SMS_GATEWAY_URL, messages are recorded in instance/sms/outbox.jsonl (development).
        "SMS_GATEWAY_URL": env.get("SMS_GATEWAY_URL", ""),
        "SMS_GATEWAY_KEY": env.get("SMS_GATEWAY_KEY", ""),
        "SMS_GATEWAY_TIMEOUT": _float("SMS_GATEWAY_TIMEOUT", "5"),
        "SMS_SIGNATURE": env.get("SMS_SIGNATURE", "【一网通办】"),
        # PAdES signing of certificate PDFs: a configured key and chain in production; unset,
        # a development CA and signing key generated into instance/keys/pki.
        "SIGNING_KEY_FILE": env.get("SIGNING_KEY_FILE", ""),
        "SIGNING_CERT_FILE": env.get("SIGNING_CERT_FILE", ""),
        "SIGNING_CHAIN_FILE": env.get("SIGNING_CHAIN_FILE", ""),
        "SIGNING_KEY_PASSPHRASE": env.get("SIGNING_KEY_PASSPHRASE", ""),
        # RFC 3161 time-stamping authority of the PAdES B-LTA signatures; unset, the development
        # TSA beside the development CA (in process).
        "TSA_URL": env.get("TSA_URL", ""),
        "TSA_TIMEOUT": _float("TSA_TIMEOUT", "5"),
        "TSA_CA_FILE": env.get("TSA_CA_FILE", ""),
        # 互认: other platforms whose certificates replace materials (TOML), and how they are fetched.
        "TRUST_LIST_FILE": env.get("TRUST_LIST_FILE", ""),
        "TRUST_TIMEOUT": _float("TRUST_TIMEOUT", "5"),
        "TRUST_CACHE_SECONDS": _float("TRUST_CACHE_SECONDS", "60"),
        # QR tokens and printed references: "default" ES256, or "sm" SM2 with SM3 (国密).
        "CRYPTO_SUITE": env.get("CRYPTO_SUITE", "default"),
        # Partner systems (OAuth2 client credentials, /api/v1).
        "PARTNER_RATE_LIMIT": env.get("PARTNER_RATE_LIMIT", "120/minute"),
        "PARTNER_TOKEN_RATE_LIMIT": env.get("PARTNER_TOKEN_RATE_LIMIT", "30/minute"),
        # Security: refused token requests per address (any client id it names), and
        # tokens issued per client (only a request that authenticates counts, so a stranger
        # cannot use it up); behind a load balancer the address is the one it forwards.
        "PARTNER_TOKEN_FAILURE_LIMIT": env.get("PARTNER_TOKEN_FAILURE_LIMIT", "10/minute"),
        "PARTNER_TOKEN_CLIENT_LIMIT": env.get("PARTNER_TOKEN_CLIENT_LIMIT", "120/minute"),
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", "0"),
        # The public verification page behind the QR, per address (a phone scanning: a few a minute).
        "VERIFY_PAGE_RATE_LIMIT": env.get("VERIFY_PAGE_RATE_LIMIT", "60/minute"),
        # 进度查询 by case number and 查询码: per address, and per case number (against guessing codes).
        "PROGRESS_RATE_LIMIT": env.get("PROGRESS_RATE_LIMIT", "10/minute"),
        "PROGRESS_CASE_RATE_LIMIT": env.get("PROGRESS_CASE_RATE_LIMIT", "20/hour"),
        "PARTNER_TOKEN_LIFETIME": _int("PARTNER_TOKEN_LIFETIME", "3600"),
        # How long a web process remembers a partner's access token (0: read it on every call);
        # a revocation reaches every process at once through Redis (partners/tokencache.py).
        "PARTNER_TOKEN_CACHE_SECONDS": _int("PARTNER_TOKEN_CACHE_SECONDS", "60"),
        # Server-side sessions (identity): idle timeouts for the public and for staff, and the
        # absolute limit after which everyone signs in again.
        "SESSION_IDLE_MINUTES": _int("SESSION_IDLE_MINUTES", "30"),
        "SESSION_STAFF_IDLE_MINUTES": _int("SESSION_STAFF_IDLE_MINUTES", "15"),
        "SESSION_ABSOLUTE_HOURS": _int("SESSION_ABSOLUTE_HOURS", "12"),
        "SESSION_KEY_PREFIX": env.get("SESSION_KEY_PREFIX", "govservice:"),
        # Cookies travel over HTTPS only, except in development on plain http://127.0.0.1.
        "SESSION_COOKIE_SECURE": _bool(
            env.get("SESSION_COOKIE_SECURE"), env.get("GOVSERVICE_ENV", "development") != "development"
        ),
        # The tamper-evident audit log (govservice/audit): who seals (auto: the Celery beat with a
        # broker, else a thread in each app process), how often and how much per checkpoint, and the
        # log's name in its signed checkpoints (default: PUBLIC_URL's host + /audit).
        "AUDIT_SEALER": env.get("AUDIT_SEALER", "auto"),
        "AUDIT_SEAL_INTERVAL": _float("AUDIT_SEAL_INTERVAL", "2"),
        "CARD_INTERVAL": _float("CARD_INTERVAL", "3600"),
        "AUDIT_SEAL_DELAY": _float("AUDIT_SEAL_DELAY", "0.2"),
        "AUDIT_SEAL_BATCH": _int("AUDIT_SEAL_BATCH", "2000"),
        "AUDIT_LOG_ORIGIN": env.get("AUDIT_LOG_ORIGIN", ""),
        # Operations (govservice/ops): JSON log lines (default outside development), an access
        # line per request from the app (off: the load balancer logs every request with the same
        # X-Request-ID), a bearer token /metrics asks for (unset: open; the load balancer keeps
        # /metrics from the public).
        "LOG_FORMAT": env.get("LOG_FORMAT")
        or ("text" if env.get("GOVSERVICE_ENV", "development") == "development" else "json"),
        "LOG_REQUESTS": _bool(env.get("LOG_REQUESTS"), False),
        "METRICS_TOKEN": env.get("METRICS_TOKEN", ""),
        "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    }
