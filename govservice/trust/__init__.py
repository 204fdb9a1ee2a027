"""Mutual recognition (电子证照互认): certificates issued by other platforms, accepted in place of
a material when their issuer is on the trust list, their signature verifies under that issuer's
published keys and its status list says neither revoked nor suspended.

The trust list is a TOML file (``TRUST_LIST_FILE``), one table per issuing platform::

    [issuers.shanghai]
    title = "上海市一网通办平台"                # shown in refusals and in the use log
    issuer = "https://zwfw.sh.example.gov.cn"   # the credentials' issuer id (their PUBLIC_URL)
    jwks_url = "https://zwfw.sh.example.gov.cn/.well-known/jwks.json"   # optional: this is the default
    status_prefix = "https://zwfw.sh.example.gov.cn/credentials/status/" # optional: status lists must start so

A mistake in the file (unknown key, missing issuer, plain http other than on 127.0.0.1) stops the
app at start. A foreign certificate arrives as the W3C VC 2.0 (``vc+jwt``) its platform exports
(``govservice.credentials``); :func:`check_credential` returns ``(ok, reason, facts)``; the key
documents and status lists are fetched with a timeout and kept for ``TRUST_CACHE_SECONDS``.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import logging
import threading
import time
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests
from flask import Flask, current_app
from flask_babel import gettext as _
from jwcrypto import jwk, jws

log = logging.getLogger(__name__)
KEYS = {"title", "issuer", "jwks_url", "status_prefix"}
CACHE_SECONDS = 60  # the status lists are served with max-age 60
MAX_CREDENTIAL = 64 * 1024


@dataclass(frozen=True)
class Issuer:
    name: str
    title: str
    issuer: str
    jwks_url: str
    status_prefix: str


@dataclass(frozen=True)
class Facts:
    """What a recognised credential says, for the use log and the case."""

    issuer: Issuer
    identifier: str
    type_name: str
    holder: str


def _checked_url(value, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where}: a URL is needed")
    parts = urlsplit(value)
    local = parts.hostname in ("127.0.0.1", "localhost")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise ValueError(f"{where}: {value!r} must be https (http only on 127.0.0.1/localhost)")
    return value.rstrip("/")


def load(path: str | None) -> dict[str, Issuer]:
    """The trust list, by issuer id; {} without a file. Raises ValueError naming the mistake."""
    if not path:
        return {}
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    unknown = set(data) - {"issuers"}
    if unknown:
        raise ValueError(f"{path}: unknown tables {sorted(unknown)}")
    found = {}
    for name, table in (data.get("issuers") or {}).items():
        where = f"{path}: [issuers.{name}]"
        if not isinstance(table, dict) or set(table) - KEYS:
            raise ValueError(f"{where}: unknown keys {sorted(set(table) - KEYS) if isinstance(table, dict) else table}")
        issuer = _checked_url(table.get("issuer"), f"{where} issuer")
        entry = Issuer(
            name=name,
            title=str(table.get("title") or name),
            issuer=issuer,
            jwks_url=_checked_url(table.get("jwks_url") or f"{issuer}/.well-known/jwks.json", f"{where} jwks_url"),
            status_prefix=_checked_url(
                table.get("status_prefix") or f"{issuer}/credentials/status", f"{where} status_prefix"
            )
            + "/",
        )
        found[issuer] = entry
    return found


def init_app(app: Flask) -> None:
    app.extensions["trust_list"] = load(app.config.get("TRUST_LIST_FILE"))
    app.extensions["trust_cache"] = _Cache()


class _Cache:
    """Fetched key documents and status lists, each kept a while (shared by the threads of a process)."""

    def __init__(self):
        self._items: dict[str, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def get(self, url: str, parse):
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(url)
        if hit is not None and now - hit[0] < current_app.config.get("TRUST_CACHE_SECONDS", CACHE_SECONDS):
            return hit[1]
        answer = requests.get(url, timeout=float(current_app.config.get("TRUST_TIMEOUT", 5)))
        answer.raise_for_status()
        value = parse(answer)
        with self._lock:
            self._items[url] = (now, value)
        return value


def _payload(token: str, keys: jwk.JWKSet) -> dict:
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    signed = jws.JWS()
    signed.deserialize(token)
    signed.verify(keys.get_key(header.get("kid")) or _no_key(), alg="ES256")
    value = json.loads(signed.payload)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _no_key():
    raise jws.InvalidJWSSignature("the key id is not in the issuer's key document")


def _bit(credential: dict, index: int) -> int:
    encoded = credential["credentialSubject"]["encodedList"]
    if not encoded.startswith("u"):
        raise ValueError("encodedList is not multibase base64url")
    bits = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    if not 0 <= index < len(bits) * 8:
        raise ValueError("statusListIndex is outside the list")
    return (bits[index // 8] >> (7 - index % 8)) & 1


def looks_like_credential(text) -> bool:
    """A JOSE-secured credential (three base64url parts), not one of our identifiers."""
    return isinstance(text, str) and text.startswith("eyJ") and text.count(".") == 2


def check_credential(text: str, holder_names: set[str]) -> tuple[bool, str, Facts | None]:
    """Is this foreign certificate (a ``vc+jwt``) usable as a material by one of ``holder_names``?"""
    trusted = current_app.extensions["trust_list"]
    cache = current_app.extensions["trust_cache"]
    if not isinstance(text, str) or len(text) > MAX_CREDENTIAL or text.count(".") != 2:
        return False, _("提交的外地证照不是可核验的电子证照凭证。"), None
    try:
        unverified = json.loads(base64.urlsafe_b64decode(text.split(".")[1] + "=="))
        issuer_id = unverified["issuer"]["id"] if isinstance(unverified["issuer"], dict) else unverified["issuer"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        return False, _("提交的外地证照不是可核验的电子证照凭证。"), None
    issuer = trusted.get(str(issuer_id).rstrip("/"))
    if issuer is None:
        log.info("refused a certificate of an issuer not on the trust list: %s", str(issuer_id)[:200])
        return (
            False,
            _("签发平台 %(issuer)s 不在互认信任名单中，其证照不能作为免提交材料。", issuer=str(issuer_id)[:200]),
            None,
        )
    try:
        keys = cache.get(issuer.jwks_url, lambda answer: jwk.JWKSet.from_json(answer.text))
    except (requests.RequestException, ValueError) as exc:
        log.warning("the key document of %s could not be fetched: %s", issuer.name, exc)
        return False, _("暂时无法获取%(title)s的公钥文件，不能核验其证照，请稍后再试。", title=issuer.title), None
    try:
        credential = _payload(text, keys)
    except (jws.InvalidJWSSignature, jws.InvalidJWSObject, ValueError, TypeError) as exc:
        log.info("a certificate of %s failed its signature check: %s", issuer.name, exc)
        return False, _("%(title)s签发的证照签名无效（伪造或被篡改）。", title=issuer.title), None
    subject = credential.get("credentialSubject") or {}
    facts = Facts(
        issuer=issuer,
        identifier=str(credential.get("id", ""))[:128],
        type_name=str(credential.get("name", "")),
        holder=str(subject.get("name", "")),
    )
    until = credential.get("validUntil")
    if until and datetime.fromisoformat(until.replace("Z", "+00:00")) <= datetime.now(UTC):
        return False, _("%(title)s签发的%(name)s已过期。", title=issuer.title, name=facts.type_name), facts
    if facts.holder not in holder_names:
        return False, _("%(title)s签发的%(name)s不属于申请人。", title=issuer.title, name=facts.type_name), facts
    for entry in credential.get("credentialStatus") or []:
        url = str(entry.get("statusListCredential", ""))
        if not url.startswith(issuer.status_prefix):
            return False, _("%(title)s签发的证照的状态列表地址不属于该平台。", title=issuer.title), facts
        try:
            listed = cache.get(url, lambda answer: _payload(answer.text, keys))
            revoked = _bit(listed, int(entry["statusListIndex"]))
        except (requests.RequestException, ValueError, KeyError, TypeError, jws.InvalidJWSSignature) as exc:
            log.warning("the status list %s of %s could not be used: %s", url, issuer.name, exc)
            return (
                False,
                _("暂时无法获取%(title)s的证照状态列表，不能确认其证照状态，请稍后再试。", title=issuer.title),
                facts,
            )
        if revoked:
            state = _("已吊销") if entry.get("statusPurpose") == "revocation" else _("已暂停")
            return (
                False,
                _(
                    "%(title)s签发的%(name)s%(state)s，不能作为免提交材料。",
                    title=issuer.title,
                    name=facts.type_name,
                    state=state,
                ),
                facts,
            )
    return True, "", facts


def unverified_type_name(text: str) -> str:
    """The certificate type a credential names (its ``name``), read without a check: for a
    credential ``check_credential`` has already accepted."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(text.split(".")[1] + "=="))
        return str(payload.get("name", "")) if isinstance(payload, dict) else ""
    except (ValueError, IndexError, binascii.Error):
        return ""
