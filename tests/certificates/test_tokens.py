"""The QR token and its key store: pure library, no Flask app."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
import threading

import pytest
from joserfc import jws
from joserfc.jwk import ECKey

from govservice.certificates.tokens import (
    TokenError,
    TokenKeyStore,
    unverified_header,
    verify_with_jwks,
)

CLAIMS = {
    "jti": "1.2.156.3005.2.XSCJGJ001.11430000006122244L.0000000001.001.X",
    "cid": "1.2.156.3005.2.XSCJGJ001.11430000006122244L.0000000001.001.X",
    "typ": "yyzz",
    "iss": "scjgj",
    "sub": "张*",
    "iat": 1735689600,
    "exp": 1893456000,
    "sha256": hashlib.sha256(b"%PDF-1.7 test").hexdigest(),
}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(obj: dict) -> str:
    return b64(json.dumps(obj, separators=(",", ":")).encode())


def unb64(seg: str) -> bytes:
    return base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4))


def flip_char(segment: str, index: int) -> str:
    """Replace one base64url character by another of the alphabet."""
    c = segment[index]
    return segment[:index] + ("B" if c != "B" else "C") + segment[index + 1 :]


@pytest.fixture
def store(tmp_path):
    s = TokenKeyStore(tmp_path / "keys" / "token_keys")
    s.ensure_key()
    return s


def reason(exc_info) -> str:
    return exc_info.value.reason


def assert_refused_both_ways(store, token, why: str) -> None:
    """The store and a verifier holding only the published JWKS refuse `token` for the same reason."""
    with pytest.raises(TokenError) as e:
        store.verify(token)
    assert reason(e) == why
    with pytest.raises(TokenError) as e:
        verify_with_jwks(token, store.public_jwks())
    assert reason(e) == why


# ------------------------------------------------------------------ store basics


def test_directory_created_and_key_files_private(tmp_path):
    directory = tmp_path / "instance" / "keys" / "token_keys"
    s = TokenKeyStore(directory)
    assert s.active_kid is None
    assert s.public_jwks() == {"keys": []}
    kid = s.ensure_key()
    assert directory.is_dir()
    assert s.active_kid == kid
    assert s.ensure_key() == kid  # idempotent
    files = sorted(p.name for p in directory.glob("*.json"))
    assert files == [f"{kid}.json"]
    path = directory / f"{kid}.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data["kid"] == kid and data["kty"] == "EC" and data["crv"] == "P-256" and "d" in data
    assert data["created_at"].endswith("Z")
    # kid is the RFC 7638 thumbprint
    assert ECKey.import_key({k: data[k] for k in ("kty", "crv", "x", "y")}).thumbprint() == kid
    # no temporary files left behind
    assert not [p for p in directory.iterdir() if p.name.startswith(".tmp")]


def test_round_trip(store):
    token = store.sign(CLAIMS)
    assert token.count(".") == 2
    header = unverified_header(token)
    assert header == {"alg": "ES256", "kid": store.active_kid, "typ": "JWT"}
    assert store.verify(token) == CLAIMS


def test_sign_creates_key_when_store_empty(tmp_path):
    s = TokenKeyStore(tmp_path / "k")
    token = s.sign({"jti": "x", "iat": 1})
    assert s.active_kid is not None
    assert s.verify(token) == {"jti": "x", "iat": 1}


def test_sign_rejects_non_numeric_times(store):
    with pytest.raises(TypeError):
        store.sign({"jti": "x", "iat": "2025-01-01"})
    with pytest.raises(TypeError):
        store.sign({"jti": "x", "exp": True})


def test_expiry_is_not_checked(store):
    token = store.sign({"jti": "old", "iat": 1, "exp": 2})  # expired in 1970
    assert store.verify(token)["exp"] == 2


# ------------------------------------------------------------------ tampering


def test_changed_byte_in_payload_is_bad_signature(store):
    token = store.sign(CLAIMS)
    h, p, s = token.split(".")
    for i in (0, len(p) // 2, len(p) - 1):
        with pytest.raises(TokenError) as e:
            store.verify(".".join([h, flip_char(p, i), s]))
        assert reason(e) == "bad_signature"


def test_re_signed_different_claims_without_key_is_bad_signature(store):
    token = store.sign(CLAIMS)
    h, _, s = token.split(".")
    forged = dict(CLAIMS, sub="李*")
    with pytest.raises(TokenError) as e:
        store.verify(".".join([h, b64json(forged), s]))
    assert reason(e) == "bad_signature"


def test_changed_byte_in_signature_is_bad_signature(store):
    token = store.sign(CLAIMS)
    h, p, s = token.split(".")
    for i in (0, len(s) // 2, len(s) - 1):
        with pytest.raises(TokenError) as e:
            store.verify(".".join([h, p, flip_char(s, i)]))
        assert reason(e) == "bad_signature"
    # truncated / extended signature
    for bad in (s[:-4], s + "AAAA"):
        with pytest.raises(TokenError) as e:
            store.verify(".".join([h, p, bad]))
        assert reason(e) == "bad_signature"


def test_unknown_kid(store, tmp_path):
    other = TokenKeyStore(tmp_path / "other")
    token = other.sign(CLAIMS)
    with pytest.raises(TokenError) as e:
        store.verify(token)
    assert reason(e) == "unknown_kid"
    assert e.value.kid == other.active_kid


def test_missing_kid_is_unknown_kid(store):
    key = ECKey.generate_key("P-256")
    token = jws.serialize_compact({"alg": "ES256"}, json.dumps(CLAIMS), key, algorithms=["ES256"])
    with pytest.raises(TokenError) as e:
        store.verify(token)
    assert reason(e) == "unknown_kid"


def test_foreign_key_with_known_kid_is_bad_signature(store):
    foreign = ECKey.generate_key("P-256")
    token = jws.serialize_compact(
        {"alg": "ES256", "kid": store.active_kid, "typ": "JWT"},
        json.dumps(CLAIMS),
        foreign,
        algorithms=["ES256"],
    )
    assert_refused_both_ways(store, token, "bad_signature")


# ------------------------------------------------------------------ algorithms


def test_alg_none_is_refused(store):
    header = {"alg": "none", "kid": store.active_kid, "typ": "JWT"}
    for token in (
        f"{b64json(header)}.{b64json(CLAIMS)}.",  # the unsecured-JWS form
        f"{b64json(header)}.{b64json(CLAIMS)}.{b64(b'x' * 64)}",
    ):
        assert_refused_both_ways(store, token, "wrong_alg")


def test_empty_signature_is_bad_signature(store):
    h, p, _ = store.sign(CLAIMS).split(".")
    with pytest.raises(TokenError) as e:
        store.verify(f"{h}.{p}.")
    assert reason(e) == "bad_signature"


@pytest.mark.parametrize("alg", ["HS256", "ES384", "RS256", "EdDSA", "es256", None])
def test_other_algs_are_wrong_alg(store, alg):
    header = {"alg": alg, "kid": store.active_kid, "typ": "JWT"}
    with pytest.raises(TokenError) as e:
        store.verify(f"{b64json(header)}.{b64json(CLAIMS)}.{b64(b'x' * 64)}")
    assert reason(e) == "wrong_alg"


def test_hs256_with_public_key_as_secret_is_wrong_alg(store):
    """The classic key-confusion attack: HMAC keyed with the published public key."""
    jwk = store.public_jwks()["keys"][0]
    header = b64json({"alg": "HS256", "kid": jwk["kid"], "typ": "JWT"})
    payload = b64json(CLAIMS)
    secret = json.dumps(jwk).encode()
    sig = b64(hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    for verify in (store.verify, lambda t: verify_with_jwks(t, store.public_jwks())):
        with pytest.raises(TokenError) as e:
            verify(f"{header}.{payload}.{sig}")
        assert reason(e) == "wrong_alg"


# ------------------------------------------------------------------ malformed


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "a.b",
        "a.b.c.d",
        "a.b.c.d.e",  # JWE compact
        "!!!.###.$$$",
        "eyJhbGciOiJFUzI1NiJ9..c2ln",  # detached payload
        b64(b"not json") + "." + b64(b"{}") + "." + b64(b"x" * 64),
        b64(b"[1,2]") + "." + b64(b"{}") + "." + b64(b"x" * 64),
        "x" * 10000,
    ],
)
def test_garbage_is_malformed(store, token):
    with pytest.raises(TokenError) as e:
        store.verify(token)
    assert reason(e) == "malformed"


def test_non_string_is_malformed(store):
    with pytest.raises(TokenError) as e:
        store.verify(None)  # type: ignore[arg-type]
    assert reason(e) == "malformed"


def test_crit_header_is_malformed(store):
    header = {"alg": "ES256", "kid": store.active_kid, "crit": ["b64"], "b64": False}
    with pytest.raises(TokenError) as e:
        store.verify(f"{b64json(header)}.{b64json(CLAIMS)}.{b64(b'x' * 64)}")
    assert reason(e) == "malformed"


def test_bytes_token_accepted(store):
    token = store.sign(CLAIMS)
    assert store.verify(token.encode()) == CLAIMS
    assert store.verify(f"  {token}\n") == CLAIMS


# ------------------------------------------------------------------ rotation & sharing


def test_rotation(store):
    old_kid = store.active_kid
    old_token = store.sign(CLAIMS)
    new_kid = store.rotate()
    assert new_kid != old_kid
    assert store.active_kid == new_kid
    new_token = store.sign(CLAIMS)
    assert unverified_header(new_token)["kid"] == new_kid
    assert store.verify(old_token) == CLAIMS
    assert store.verify(new_token) == CLAIMS

    jwks = store.public_jwks()
    kids = [k["kid"] for k in jwks["keys"]]
    assert kids == [new_kid, old_kid]  # active first
    for key in jwks["keys"]:
        assert "d" not in key
        assert set(key) == {"kty", "crv", "x", "y", "kid", "use", "alg"}
        assert key["use"] == "sig" and key["alg"] == "ES256" and key["crv"] == "P-256"
    assert '"d"' not in json.dumps(jwks)


def test_many_rotations_keep_order(store):
    kids = [store.active_kid]
    for _ in range(5):
        kids.append(store.rotate())
    assert store.kids() == list(reversed(kids))
    assert store.active_kid == kids[-1]


def test_second_instance_on_same_directory_agrees(store):
    token = store.sign(CLAIMS)
    twin = TokenKeyStore(store.directory)
    assert twin.active_kid == store.active_kid
    assert twin.verify(token) == CLAIMS
    # a rotation by one instance is seen by the other (no in-memory state)
    new_kid = twin.rotate()
    assert store.active_kid == new_kid
    assert store.verify(twin.sign(CLAIMS)) == CLAIMS
    assert twin.verify(store.sign(CLAIMS)) == CLAIMS
    assert store.public_jwks() == twin.public_jwks()


def test_removed_key_no_longer_verifies(store):
    token = store.sign(CLAIMS)
    old = store.active_kid
    store.rotate()
    (store.directory / f"{old}.json").unlink()
    with pytest.raises(TokenError) as e:
        store.verify(token)
    assert reason(e) == "unknown_kid"


def test_corrupt_and_stray_files_are_ignored(store, caplog):
    token = store.sign(CLAIMS)
    (store.directory / "broken.json").write_text("{not json")
    (store.directory / ".tmp-abc.part").write_text("{}")
    (store.directory / "README.txt").write_text("keys")
    # a file whose name does not match its kid
    good = json.loads((store.directory / f"{store.active_kid}.json").read_text())
    (store.directory / "renamed.json").write_text(json.dumps(good))
    assert store.kids() == [good["kid"]]
    assert store.verify(token) == CLAIMS


# ------------------------------------------------------------------ offline verification


def test_concurrent_rotation_and_verification(store):
    """Readers on other instances never see a half-written key while keys rotate."""
    token = store.sign(CLAIMS)
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader():
        twin = TokenKeyStore(store.directory)
        try:
            while not stop.is_set():
                assert twin.verify(token) == CLAIMS
                assert twin.verify(twin.sign(CLAIMS)) == CLAIMS
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def rotator():
        twin = TokenKeyStore(store.directory)
        try:
            for _ in range(10):
                twin.rotate()
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    readers = [threading.Thread(target=reader) for _ in range(3)]
    rotators = [threading.Thread(target=rotator) for _ in range(2)]
    for t in readers + rotators:
        t.start()
    for t in rotators:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert not errors
    assert len(store.kids()) == 21
    assert len(set(store.kids())) == 21


def test_verify_with_jwks_from_json(store):
    first = store.sign(CLAIMS)
    store.rotate()
    second = store.sign(dict(CLAIMS, jti="second"))
    published = json.loads(json.dumps(store.public_jwks()))
    assert verify_with_jwks(first, published) == CLAIMS
    assert verify_with_jwks(second, published)["jti"] == "second"


def test_verify_with_jwks_reasons(store, tmp_path):
    token = store.sign(CLAIMS)
    published = store.public_jwks()
    h, p, s = token.split(".")
    cases = {
        "bad_signature": ".".join([h, flip_char(p, 3), s]),
        "unknown_kid": TokenKeyStore(tmp_path / "other").sign(CLAIMS),
        "malformed": "not-a-token",
        "wrong_alg": f"{b64json({'alg': 'none', 'kid': store.active_kid})}.{p}.{s}",
    }
    for expected, bad in cases.items():
        with pytest.raises(TokenError) as e:
            verify_with_jwks(bad, published)
        assert reason(e) == expected, expected


def test_verify_with_jwks_ignores_unusable_keys(store):
    token = store.sign(CLAIMS)
    jwk = dict(store.public_jwks()["keys"][0])
    for bad in (dict(jwk, use="enc"), dict(jwk, alg="ES384"), dict(jwk, crv="P-384"), {"kid": jwk["kid"]}):
        with pytest.raises(TokenError) as e:
            verify_with_jwks(token, {"keys": [bad]})
        assert reason(e) == "unknown_kid"
    with pytest.raises(ValueError):
        verify_with_jwks(token, {"nokeys": []})


def test_private_jwk_in_jwks_still_only_public_used(store):
    """An offline verifier given a set that (wrongly) includes d still verifies."""
    token = store.sign(CLAIMS)
    private = json.loads((store.directory / f"{store.active_kid}.json").read_text())
    assert verify_with_jwks(token, {"keys": [private]}) == CLAIMS
