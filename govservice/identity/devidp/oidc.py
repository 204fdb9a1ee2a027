"""The IdP's protocol core: Authlib's authorization server with the pieces it leaves to us.

Authlib implements the protocol rules (request validation, client authentication, PKCE
checks, ID token encoding, bearer token checks, RP-initiated logout); this module only
supplies storage, keys, claims and the stricter policies a modern provider applies:
PKCE with S256 on every request, single-use codes, a single-string `aud`.
"""

from __future__ import annotations

import time

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo, UserInfoEndpoint
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.rpinitiated import EndSessionEndpoint
from flask import Flask, session
from joserfc.jwk import RSAKey

from .clients import TOKEN_ENDPOINT_AUTH_METHODS, Client
from .identities import CLAIMS_SUPPORTED, Directory
from .signing_key import SIGNING_ALG, public_key_set
from .store import AccessToken, AuthorizationCode, MemoryStore

SCOPES_SUPPORTED = ["openid", "profile", "phone", "roles"]
ACR_VALUES_SUPPORTED = ["1", "2", "3"]
ID_TOKEN_LIFETIME = 600
ACCESS_TOKEN_LIFETIME = 600


class IdpAuthorizationServer(AuthorizationServer):
    """Authlib's Flask authorization server, reaching clients and storage through itself.

    The grant classes are instantiated by Authlib per request with only (request, server),
    so the server is where they find the store.
    """

    def __init__(self, app: Flask, clients: dict[str, Client], store: MemoryStore):
        self.clients = clients
        self.store = store
        app.config.setdefault("OAUTH2_SCOPES_SUPPORTED", SCOPES_SUPPORTED)
        app.config.setdefault("OAUTH2_TOKEN_EXPIRES_IN", {"authorization_code": ACCESS_TOKEN_LIFETIME})
        super().__init__(app)

    def query_client(self, client_id):
        return self.clients.get(client_id)

    def save_token(self, token, request):
        self.store.add_token(
            AccessToken(
                access_token=token["access_token"],
                client=request.client,
                login=request.user,
                scope=token.get("scope", ""),
                issued_at=int(time.time()),
                expires_in=token["expires_in"],
                code=request.authorization_code.code,
            )
        )


class CodeGrant(AuthorizationCodeGrant):
    """The authorization code grant, storing codes in the IdP's memory store."""

    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_ENDPOINT_AUTH_METHODS

    def save_authorization_code(self, code, request):
        data = request.payload.data
        self.server.store.add_code(
            AuthorizationCode(
                code=code,
                client_id=request.client.get_client_id(),
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope,
                login=request.user,
                nonce=data.get("nonce"),
                code_challenge=data["code_challenge"],
                code_challenge_method=data["code_challenge_method"],
                issued_at=time.time(),
            )
        )

    def query_authorization_code(self, code, client):
        """Look the code up and spend it in one step, so a code is never accepted twice."""
        return self.server.store.take_code(code, client.get_client_id())

    def delete_authorization_code(self, authorization_code):
        """Nothing left to do: `query_authorization_code` already spent the code."""

    def authenticate_user(self, authorization_code):
        return authorization_code.login


class RequiredS256CodeChallenge(CodeChallenge):
    """PKCE as OAuth 2.1 and RFC 9700 recommend: every request carries an S256 challenge.

    Authlib's extension accepts requests without a challenge and the `plain` method; both
    are refused here, even for confidential clients, because PKCE also stops code injection.
    """

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: missing 'code_challenge'.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE 'code_challenge_method' must be S256.")
        super().validate_code_challenge(grant, redirect_uri)


class IdTokenIssuer(OpenIDCode):
    """Adds the RS256-signed ID token to the token response of `openid` requests."""

    def __init__(self, store: MemoryStore, issuer: str, key: RSAKey, directory: Directory):
        super().__init__(require_nonce=False)
        self._store = store
        self._issuer = issuer
        self._key = key
        self._directory = directory

    def exists_nonce(self, nonce, request):
        return self._store.nonce_used(request.payload.client_id, nonce)

    def resolve_client_private_key(self, client):
        return self._key

    def get_client_algorithm(self, client):
        return SIGNING_ALG

    def get_encode_header(self, client):
        """Name the key in the header, so relying parties pick it from the JWKS."""
        return {"alg": SIGNING_ALG, "kid": self._key.kid}

    def get_client_claims(self, client):
        """`aud` is the client_id as a single string.

        Besides being the most interoperable form, Authlib's logout endpoint can find the
        client from an `id_token_hint` only when `aud` is a string.
        """
        return {"iss": self._issuer, "aud": client.get_client_id(), "exp": int(time.time()) + ID_TOKEN_LIFETIME}

    def generate_user_info(self, user, scope):
        return UserInfo(self._directory.claims(user.identity, scope, user.level))


class IdentityUserInfo(UserInfoEndpoint):
    """The userinfo endpoint: the same claims as the ID token, for the token's scope."""

    def __init__(self, directory: Directory, **kwargs):
        super().__init__(**kwargs)
        self._directory = directory

    def generate_user_info(self, user, scope):
        return UserInfo(self._directory.claims(user.identity, scope, user.level))


class StoreBearerTokenValidator(BearerTokenValidator):
    """Looks bearer tokens up in the memory store."""

    def __init__(self, store: MemoryStore):
        super().__init__()
        self._store = store

    def authenticate_token(self, token_string):
        return self._store.find_token(token_string)


class Logout(EndSessionEndpoint):
    """RP-initiated logout: verify the `id_token_hint` with our key, clear the IdP session."""

    def __init__(self, key: RSAKey):
        super().__init__()
        self._jwks = public_key_set(key)

    def get_server_jwks(self):
        return self._jwks

    def get_algorithms(self):
        return [SIGNING_ALG]

    def end_session(self, end_session_request):
        session.clear()

    def _is_valid_post_logout_redirect_uri(self, client, post_logout_redirect_uri):
        """Delegate to the client, so the loopback development client can be lenient.

        Authlib's default only compares against registered URIs in the client metadata.
        """
        return client.check_post_logout_redirect_uri(post_logout_redirect_uri)


def create_authorization_server(
    app: Flask, clients: dict[str, Client], issuer: str, key: RSAKey, directory: Directory
) -> IdpAuthorizationServer:
    """Assemble the authorization server with its grant, extensions and endpoints."""
    store = MemoryStore()
    server = IdpAuthorizationServer(app, clients, store)
    server.register_grant(
        CodeGrant, [RequiredS256CodeChallenge(required=True), IdTokenIssuer(store, issuer, key, directory)]
    )
    protector = ResourceProtector()
    protector.register_token_validator(StoreBearerTokenValidator(store))
    server.register_endpoint(IdentityUserInfo(directory, resource_protector=protector))
    server.register_endpoint(Logout(key))
    return server


def discovery_document(issuer: str) -> dict:
    """OpenID Provider Metadata (OpenID Connect Discovery 1.0, RP-Initiated Logout 1.0)."""
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "jwks_uri": f"{issuer}/jwks.json",
        "end_session_endpoint": f"{issuer}/logout",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": [SIGNING_ALG],
        "scopes_supported": SCOPES_SUPPORTED,
        "claims_supported": CLAIMS_SUPPORTED,
        "acr_values_supported": ACR_VALUES_SUPPORTED,
        "subject_types_supported": ["public"],
        "token_endpoint_auth_methods_supported": TOKEN_ENDPOINT_AUTH_METHODS,
        "prompt_values_supported": ["none", "login"],
        "ui_locales_supported": ["zh-CN"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
    }
