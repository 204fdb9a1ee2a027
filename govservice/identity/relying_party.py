"""The relying-party side of OpenID Connect: the authorization request and the callback,
with every check a conformant client makes.

Authlib does the protocol: discovery, state, PKCE S256 (the verifier kept in the session),
nonce, the code exchange, the ID token's signature against the provider's JWKS (fetched again
when a token names a key id it has not seen, so a provider can rotate keys), and the claims.
This module adds what Authlib leaves to the application: the issuer in the discovery document
must be the configured one; `iss`, `aud`, `sub`, `exp` and `iat` are essential and checked
against this client; an ID token is required (plain OAuth is not a login); userinfo is asked
only for claims the ID token lacks, and must speak of the same `sub`. Every failure becomes a
`LoginFailed` with a short reason for the audit log and a message in Chinese for the person.

This is the one module that works on the request (Authlib reads the callback's query and
keeps its state in the session); the views call it and pass plain claims to the services.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

from authlib.integrations.base_client import MismatchingStateError, OAuthError
from flask import request
from flask_babel import lazy_gettext as _l
from joserfc.errors import BadSignatureError, ClaimError, ExpiredTokenError, InvalidKeyIdError, JoseError
from requests.exceptions import RequestException

from .providers import Provider, oidc_client

log = logging.getLogger(__name__)

#: Seconds of clock skew tolerated between the platform and a provider.
LEEWAY = 120
#: An ID token issued longer ago than this is not accepted, whatever its `exp` says.
MAX_TOKEN_AGE = 600
#: Claims about the token itself, which userinfo may not override.
PROTOCOL_CLAIMS = {
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "at_hash",
    "c_hash",
    "jti",
    "sid",
}


class LoginFailed(Exception):
    """The provider's answer cannot make a session.

    `reason` is a short code for the audit log; `message` tells the person, in Chinese.
    """

    def __init__(self, reason: str, message, detail: str | None = None):
        super().__init__(f"{reason}: {detail or message}")
        self.reason = reason
        self.message = message
        self.detail = detail


@dataclass(frozen=True)
class VerifiedLogin:
    """What a provider asserted, after every check."""

    claims: dict
    id_token: str
    acr: str | None


UNREACHABLE = _l("身份提供方暂时无法访问，请稍后再试。")
INVALID = _l("登录未完成：身份提供方的应答无效或已过期，请重新登录。")


def metadata(provider: Provider) -> dict:
    """The provider's discovery document; its `issuer` must be the configured one (Discovery §4.3)."""
    client = oidc_client(provider.name)
    try:
        meta = client.load_server_metadata()
    except (RequestException, ValueError) as exc:
        client.server_metadata.clear()  # try discovery again next time
        raise LoginFailed("provider_unreachable", UNREACHABLE, repr(exc)) from None
    if meta.get("issuer", "").rstrip("/") != provider.issuer:
        client.server_metadata.clear()
        raise LoginFailed(
            "issuer_mismatch",
            _l("身份提供方的配置与本平台不一致，暂时无法登录，请联系平台管理员。"),
            f"discovery says {meta.get('issuer')!r}",
        )
    return meta


def acr_request(provider: Provider, meta: dict, level: int | None, *, required: bool) -> dict:
    """How to ask for `acr` (Core §3.1.2.1, §5.5.1.1), so that a provider that releases `acr` only
    on request says how the person signed in: with the `claims` parameter where the provider
    supports it (the values that reach `level`, essential for a step-up), and as `acr_values`
    (in order of preference, weakest sufficient first) for a step-up, for a level wanted, or,
    without the `claims` parameter, the weakest value (level 1 suffices: only tell us)."""
    claims_parameter = meta.get("claims_parameter_supported")
    values = provider.acr_values_for(level or 1)
    params = {}
    if values and claims_parameter:
        params["claims"] = json.dumps(
            {"id_token": {"acr": {"essential": required, "values": values.split()}}}, separators=(",", ":")
        )
    if values and (required or not claims_parameter):
        params["acr_values"] = values if (required or level) else values.split()[0]
    return params


def authorization_url(
    provider: Provider,
    redirect_uri: str,
    *,
    level: int | None = None,
    required: bool = False,
    prompt: str | None = None,
) -> tuple[str, str]:
    """Where to send the browser, and the request's `state`; the state, nonce and PKCE
    verifier are kept in the session for the callback. `level`: the level of assurance wanted
    (`required` for a step-up; otherwise a hint, e.g. the level of the item the person goes to)."""
    meta = metadata(provider)
    client = oidc_client(provider.name)
    params = acr_request(provider, meta, level, required=required)
    if prompt:
        params["prompt"] = prompt
    try:
        rv = client.create_authorization_url(redirect_uri, **params)
    except RequestException as exc:
        raise LoginFailed("provider_unreachable", UNREACHABLE, repr(exc)) from None
    client.save_authorize_data(redirect_uri=redirect_uri, **rv)
    return rv["url"], rv["state"]


def _claims_options(provider: Provider) -> dict:
    # Built afresh per call: Authlib pops the "validate" hooks out of the dict it is given.
    return {
        "iss": {"essential": True, "value": provider.issuer},
        "aud": {"essential": True, "value": provider.client_id},
        "sub": {"essential": True},
        "exp": {"essential": True},
        "iat": {"essential": True, "validate": lambda _claims, iat: iat >= time.time() - MAX_TOKEN_AGE - LEEWAY},
    }


def complete(provider: Provider) -> VerifiedLogin:
    """Handle the callback request: exchange the code and verify everything, or raise LoginFailed."""
    if "iss" in request.args:  # RFC 9207 §2.4: error responses carry it too
        check_issuer(provider, metadata(provider))
    error = request.args.get("error")
    if error == "access_denied":
        raise LoginFailed("cancelled", _l("您已取消登录。"))
    if error:
        raise LoginFailed(
            "provider_error",
            _l("身份提供方未能完成登录（%(error)s），请重新登录。", error=error[:64]),
            request.args.get("error_description", "")[:200],
        )
    check_issuer(provider, metadata(provider))
    client = oidc_client(provider.name)
    try:
        token = client.authorize_access_token(claims_options=_claims_options(provider), leeway=LEEWAY)
    except MismatchingStateError:
        raise LoginFailed("state_mismatch", _l("登录未完成：登录请求已失效或不是从本站发起的，请重新登录。")) from None
    except OAuthError as exc:  # the token endpoint refused: a used, expired or forged code
        raise LoginFailed("code_refused", INVALID, f"{exc.error}: {exc.description}") from None
    except ExpiredTokenError:
        raise LoginFailed("token_expired", INVALID) from None
    except (BadSignatureError, InvalidKeyIdError) as exc:
        raise LoginFailed("bad_signature", INVALID, repr(exc)) from None
    except ClaimError as exc:
        reason = "nonce_mismatch" if exc.claim == "nonce" else "claims_invalid"
        raise LoginFailed(reason, INVALID, f"{type(exc).__name__}: {exc.claim}") from None
    except JoseError as exc:
        raise LoginFailed("token_invalid", INVALID, repr(exc)) from None
    except RequestException as exc:
        raise LoginFailed("provider_unreachable", UNREACHABLE, repr(exc)) from None
    except (ValueError, KeyError, TypeError) as exc:  # a malformed answer
        raise LoginFailed("token_invalid", INVALID, repr(exc)) from None
    if not token.get("id_token") or token.get("userinfo") is None:
        raise LoginFailed("no_id_token", INVALID, "the token response carries no ID token")
    claims = dict(token["userinfo"])
    mapped = (provider.id_number_claim, provider.name_claim, provider.phone_claim, provider.role_claim)
    if any(name and claims.get(name) in (None, "") for name in mapped):
        claims = _with_userinfo(provider, client, token, claims)
    return VerifiedLogin(claims=claims, id_token=token["id_token"], acr=claims.get(provider.acr_claim))


def check_issuer(provider: Provider, meta: dict) -> None:
    """RFC 9207 (OAuth 2.0 Authorization Server Issuer Identification): when the provider says it
    sends `iss` in its authorization responses, the callback must carry it, and whenever one is
    there it must be exactly this provider's issuer; otherwise the answer may come from another
    provider the person was sent to (a mix-up attack)."""
    iss = request.args.get("iss")
    if iss is None:
        if meta.get("authorization_response_iss_parameter_supported"):
            raise LoginFailed("iss_missing", INVALID, "the authorization response carries no iss (RFC 9207)")
        return
    if iss != meta.get("issuer"):
        raise LoginFailed("iss_mismatch", INVALID, f"the authorization response names issuer {iss[:200]!r}")


def _with_userinfo(provider: Provider, client, token: dict, claims: dict) -> dict:
    """Add the userinfo endpoint's claims the ID token lacks (OpenID Connect Core 5.3)."""
    if not client.load_server_metadata().get("userinfo_endpoint"):
        return claims
    try:
        info = client.userinfo(token=token)
    except (RequestException, OAuthError, ValueError) as exc:
        raise LoginFailed("userinfo_failed", INVALID, repr(exc)) from None
    if info.get("sub") != claims.get("sub"):  # 5.3.2: must be about the same subject
        raise LoginFailed("userinfo_mismatch", INVALID, "userinfo names another subject")
    merged = dict(claims)
    for key, value in info.items():
        if key not in PROTOCOL_CLAIMS:
            merged.setdefault(key, value)
    return merged


def logout_url(provider: Provider, id_token: str | None, post_logout_redirect_uri: str) -> str | None:
    """The provider's end-session URL (RP-Initiated Logout 1.0), or None when it offers none."""
    try:
        meta = metadata(provider)
    except LoginFailed:
        return None
    if not meta.get("end_session_endpoint"):
        return None
    client = oidc_client(provider.name)
    result = client.create_logout_url(
        post_logout_redirect_uri=post_logout_redirect_uri, id_token_hint=id_token, client_id=provider.client_id
    )
    return result["url"]
