"""A scriptable OpenID Connect provider for testing the platform's relying party over real HTTP.

The development provider is a well-behaved one; this one can be told to misbehave the ways
real providers (or attackers between them) do: sign with a key it does not publish, rotate its
keys, send an expired token, another nonce, another audience or issuer, no ID token, no ID
number in the token (only in userinfo), a userinfo about someone else, no end-session
endpoint. It also records what the relying party sent, so tests can check PKCE, state and
nonce on the wire. The platform talks to it with its real Authlib client.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import Flask, abort, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from govservice.identity.devidp import serve_in_thread

CLIENT_ID, CLIENT_SECRET = "govservice-stub", "stub-secret"
PERSON = {"sub": "stub-0001", "name": "张三", "id_number": "110105198802150035", "phone_number": "13800000001"}


@functools.cache
def _key(number: int) -> RSAKey:
    # RSA key generation is slow; the same few keys serve every test (each test has a reset stub).
    return RSAKey.generate_key(2048, parameters={"alg": "RS256", "use": "sig"}, auto_kid=True)


_issued = itertools.count(1)


def new_key() -> RSAKey:
    """A key no stub has published before in this test (the pool cycles through a few keys)."""
    return _key(next(_issued) % 4 + 1)


@dataclass
class Behaviour:
    """What the next token response looks like; tests change it between logins."""

    claims: dict = field(default_factory=lambda: dict(PERSON))
    acr: str | None = "2"
    exp_in: int = 600
    iat_offset: int = 0
    nonce: str | None = None  # None: echo the request's nonce
    aud: str | list | None = None  # None: the client id
    iss: str | None = None  # None: the issuer
    sign_with: RSAKey | None = None  # None: the current published key
    id_token: bool = True
    userinfo: dict | None = None  # None: the same claims as the ID token
    discovery_issuer: str | None = None
    end_session: bool = True
    # RFC 9207: advertise `authorization_response_iss_parameter_supported`, and the `iss` the
    # authorization response carries ("" sends none; None sends the issuer when advertised).
    advertise_iss: bool = False
    response_iss: str | None = None
    claims_parameter: bool = False  # advertise `claims_parameter_supported`


class StubProvider:
    def __init__(self):
        self.keys = [_key(0)]
        self.behaviour = Behaviour()
        self.codes: dict[str, dict] = {}
        self.requests: list[dict] = []  # authorization requests as received
        self.token_requests: list[dict] = []
        self.jwks_fetches = 0
        self.lock = threading.Lock()
        self.issuer = ""
        self.server = self.thread = self.stopped = None
        self.client_jwks: dict | None = None  # the relying party's published keys (private_key_jwt)
        self.assertions: list = []

    def rotate(self) -> RSAKey:
        """Publish a new key and sign with it from now on (the old one stays published)."""
        key = new_key()
        self.keys.insert(0, key)
        return key

    def id_token(self, nonce: str | None, access_token: str) -> str:
        b = self.behaviour
        now = int(time.time())
        claims = {
            "iss": b.iss or self.issuer,
            "aud": b.aud or CLIENT_ID,
            "iat": now + b.iat_offset,
            "exp": now + b.iat_offset + b.exp_in,
            "auth_time": now,
            **b.claims,
        }
        if b.acr is not None:
            claims["acr"] = b.acr
        nonce = b.nonce if b.nonce is not None else nonce
        if nonce:
            claims["nonce"] = nonce
        key = b.sign_with or self.keys[0]
        digest = hashlib.sha256(access_token.encode()).digest()
        claims["at_hash"] = base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)

    def client_assertion_valid(self, assertion: str) -> bool:
        """RFC 7523 §3: signed by a key of the client's JWKS, iss = sub = client id, aud = this
        token endpoint, not expired, a jti."""
        if self.client_jwks is None:
            return False
        try:
            token = jwt.decode(assertion, KeySet.import_key_set(self.client_jwks))
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": CLIENT_ID},
                sub={"essential": True, "value": CLIENT_ID},
                aud={"essential": True, "value": f"{self.issuer}/token"},
                exp={"essential": True},
                jti={"essential": True},
            ).validate(token.claims)
        except Exception:  # noqa: BLE001 - any failure is an invalid client
            return False
        self.assertions.append(token)
        return True

    def app(self) -> Flask:
        app = Flask("stub_provider")
        stub = self

        @app.get("/.well-known/openid-configuration")
        def discovery():
            doc = {
                "issuer": stub.behaviour.discovery_issuer or stub.issuer,
                "authorization_endpoint": f"{stub.issuer}/authorize",
                "token_endpoint": f"{stub.issuer}/token",
                "userinfo_endpoint": f"{stub.issuer}/userinfo",
                "jwks_uri": f"{stub.issuer}/jwks.json",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }
            if stub.behaviour.end_session:
                doc["end_session_endpoint"] = f"{stub.issuer}/logout"
            if stub.behaviour.advertise_iss:
                doc["authorization_response_iss_parameter_supported"] = True
            if stub.behaviour.claims_parameter:
                doc["claims_parameter_supported"] = True
            doc["token_endpoint_auth_methods_supported"] = ["client_secret_basic", "private_key_jwt"]
            return jsonify(doc)

        @app.get("/jwks.json")
        def jwks():
            stub.jwks_fetches += 1
            return jsonify(KeySet(stub.keys).as_dict(private=False))

        @app.get("/authorize")
        def authorize():
            args = request.args.to_dict()
            stub.requests.append(args)
            code = secrets.token_urlsafe(16)
            with stub.lock:
                stub.codes[code] = {
                    "nonce": args.get("nonce"),
                    "challenge": args.get("code_challenge"),
                    "redirect_uri": args["redirect_uri"],
                    "used": False,
                }
            answer = {"code": code, "state": args.get("state", "")}
            b = stub.behaviour
            iss = b.response_iss if b.response_iss is not None else (stub.issuer if b.advertise_iss else "")
            if iss:
                answer["iss"] = iss
            return redirect(f"{args['redirect_uri']}?{urlencode(answer)}")

        @app.post("/token")
        def token():
            form = request.form.to_dict()
            stub.token_requests.append(form)
            auth = request.authorization
            if form.get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
                if not stub.client_assertion_valid(form.get("client_assertion", "")):
                    return jsonify(error="invalid_client"), 401
            elif not auth or (auth.username, auth.password) != (CLIENT_ID, CLIENT_SECRET):
                return jsonify(error="invalid_client"), 401
            with stub.lock:
                entry = stub.codes.get(form.get("code", ""))
                if entry is None or entry["used"]:
                    return jsonify(error="invalid_grant", error_description="code used or unknown"), 400
                entry["used"] = True
            verifier = form.get("code_verifier", "")
            expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if expected != entry["challenge"]:
                return jsonify(error="invalid_grant", error_description="PKCE verification failed"), 400
            access_token = secrets.token_urlsafe(24)
            answer = {"access_token": access_token, "token_type": "Bearer", "expires_in": 600}
            if stub.behaviour.id_token:
                answer["id_token"] = stub.id_token(entry["nonce"], access_token)
            return jsonify(answer)

        @app.get("/userinfo")
        def userinfo():
            if not request.headers.get("Authorization", "").startswith("Bearer "):
                abort(401)
            b = stub.behaviour
            return jsonify(b.userinfo if b.userinfo is not None else {**b.claims})

        return app

    def serve(self, port: int = 0):
        self.server, self.thread = serve_in_thread(self.app(), "127.0.0.1", port)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"
        return self.server, self.thread

    def reset(self) -> None:
        """As a new provider at the same issuer: its first key, well-behaved, nothing received,
        serving (again, if a test stopped it)."""
        with self.lock:
            self.keys = [_key(0)]
            self.behaviour = Behaviour()
            self.codes.clear()
            self.requests.clear()
            self.token_requests.clear()
            self.jwks_fetches = 0
            self.client_jwks = None
            self.assertions = []
        if self.server is None:
            if self.stopped is not None:
                self.stopped.server_close()
                self.stopped = None
            self.serve(int(self.issuer.rsplit(":", 1)[1]))

    def stop(self) -> None:
        """Stop answering (the socket stays bound, as a provider that hangs, until `reset`)."""
        if self.server is not None:
            self.server.shutdown()
            self.thread.join(timeout=5)
            self.stopped, self.server = self.server, None
