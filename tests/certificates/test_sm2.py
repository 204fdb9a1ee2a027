"""CRYPTO_SUITE=sm: QR tokens and printed references signed with SM2/SM3, their keys published
with kids, verification, rotation and the partner API as with ES256; SM3 and SM2 checked
against the standards' worked examples (GB/T 32905, GB/T 32918) and against gmssl, an
implementation independent of the Tongsuo one the platform signs with."""

from __future__ import annotations

import base64
import json

import pytest
from gmssl import func, sm2, sm3
from tongsuopy.crypto import hashes

from govservice.certificates import services, shortref, sm2tokens, tokens

from ..factories import bearer, call, issue, register_partner

# GB/T 32918.2 (GM/T 0003.2) annex A.2: the example curve over Fp-256, its key pair, the user
# ID ALICE123@YAHOO.COM and the message "message digest".
EXAMPLE_CURVE = {
    "p": "8542D69E4C044F18E8B92435BF6FF7DE457283915C45517D722EDB8B08F1DFC3",
    "a": "787968B4FA32C3FD2417842E73BBFEFF2F3C848B6831D7E0EC65228B3937E498",
    "b": "63E4C6D3B23B0C849CF84241484BFE48F61D59A5B16BA06E6E12D1DA27C5249A",
    "g": "421DEBD61B62EAB6746434EBC3CC315E32220B3BADD50BDC4C4E6C147FEDD43D"
    "0680512BCBB42C07D47349D2153B70C4E5D7FDFCBFA36EA1A85841B9E46E09A2",
    "n": "8542D69E4C044F18E8B92435BF6FF7DD297720630485628D5AE74EE7C32E79B7",
}
D_A = "128B2FA8BD433C6C068C8D803DFF79792A519A55171B1B650C23661D15897263"
P_A = (
    "0AE4C7798AA0F119471BEE11825BE46202BB79E2A5844495E97C04FF4DF2548A"
    "7C0240F88F1CD4E16352A73C17B7F16F07353E53A176D684A9FE0C6BB798E857"
)
Z_A = "F4A38489E32B45B6F876E3AC2168CA392362DC8F23459C1D1146FC3DBFB7BC9A"
E = "B524F552CD82B8B028476E005C377FB19A87E6FC682D48BB5D42E3D9B9EFFE76"
R_S = (
    "40F1EC59F793D9F49E09DCEF49130D4194F79FB1EED2CAA55BACDB49C4E755D1"
    "6FC6DAC32C5D5CF10C77DFB20F7C2EB667A457872FB09EC56327A67EC7DEEBE7"
)


@pytest.fixture
def app_config():
    return {"CRYPTO_SUITE": "sm"}


def _sm3(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def test_sm3_gives_the_examples_of_gb_t_32905():
    for message, expected in (
        (b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
        (b"abcd" * 16, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
    ):
        assert _sm3(message) == expected  # Tongsuo, what the platform uses
        assert sm3.sm3_hash(func.bytes_to_list(message)) == expected  # gmssl


def test_the_worked_example_of_gb_t_32918_verifies_and_an_altered_one_does_not():
    example = sm2.CryptSM2(private_key=D_A, public_key="", ecc_table=EXAMPLE_CURVE)
    assert example._kg(int(D_A, 16), EXAMPLE_CURVE["g"]).upper() == P_A  # the public key of d_A
    user = b"ALICE123@YAHOO.COM"
    z = (
        (len(user) * 8).to_bytes(2, "big")
        + user
        + bytes.fromhex(EXAMPLE_CURVE["a"] + EXAMPLE_CURVE["b"] + EXAMPLE_CURVE["g"] + P_A)
    )
    assert sm3.sm3_hash(func.bytes_to_list(z)).upper() == Z_A
    assert sm3.sm3_hash(func.bytes_to_list(bytes.fromhex(Z_A) + b"message digest")).upper() == E
    verifier = sm2.CryptSM2(private_key="", public_key=P_A, ecc_table=EXAMPLE_CURVE)
    assert verifier.verify(R_S, bytes.fromhex(E))
    assert not verifier.verify(R_S[:-1] + "8", bytes.fromhex(E))
    assert not verifier.verify(R_S, bytes.fromhex(E[:-1] + "7"))  # the signature over other data


def _gmssl_verifies(token: str, jwk: dict) -> bool:
    """An independent check of an SM2-SM3 token: gmssl, the JWK's point, the default user ID."""
    head, payload, signature = token.split(".")
    x, y = (base64.urlsafe_b64decode(jwk[n] + "==").hex() for n in ("x", "y"))
    raw = base64.urlsafe_b64decode(signature + "==").hex()
    return sm2.CryptSM2(private_key="", public_key=x + y).verify_with_sm3(raw, f"{head}.{payload}".encode())


def test_certificates_are_signed_with_sm2_and_verify_like_es256_ones(app, ctx, clock):
    certificate = issue("spjyxkz")
    header = tokens.unverified_header(certificate.token)
    assert header["alg"] == "SM2-SM3"
    jwks = app.test_client().get("/.well-known/jwks.json").get_json()
    [jwk] = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    assert jwk["crv"] == "SM2" and jwk["alg"] == "SM2-SM3" and "d" not in jwk
    assert jwk["kid"] == sm2tokens.thumbprint(jwk["x"], jwk["y"])
    assert any(k["crv"] == "P-256" for k in jwks["keys"])  # ES256 tokens issued before still verify
    assert _gmssl_verifies(certificate.token, jwk)

    client = app.test_client()
    assert "核验结果：有效" in client.get(f"/v/{certificate.token}").get_data(as_text=True)

    # an SM2 signature over other data: the claims of another certificate under this signature
    head, payload, signature = certificate.token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["cid"] = claims["cid"][:-5] + "2.001.X"
    other = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    forged = f"{head}.{other}.{signature}"
    assert not _gmssl_verifies(forged, jwk)
    page = client.get(f"/v/{forged}")
    assert page.status_code == 404 and "无效（伪造或被篡改）" in page.get_data(as_text=True)
    with pytest.raises(tokens.TokenError) as refused:
        services.key_store().verify(forged)
    assert refused.value.reason == "bad_signature"

    # the printed reference is SM2-signed too, and verifies offline from the same key document
    reference = shortref.make(services.key_store(), "spjyxkz", "scjgj", 5, 1)
    assert shortref.verify_with_jwks(reference, jwks).kid == header["kid"]


def test_rotation_keeps_old_sm2_tokens_valid_and_the_partner_api_answers(app, ctx, clock):
    certificate = issue("spjyxkz")
    old_kid = tokens.unverified_header(certificate.token)["kid"]
    store = services.key_store()
    new_kid = store.rotate()
    assert new_kid != old_kid and store.kids()[:2] == [new_kid, old_kid]
    assert tokens.unverified_header(issue("spjyxkz").token)["kid"] == new_kid
    client = app.test_client()
    assert "核验结果：有效" in client.get(f"/v/{certificate.token}").get_data(as_text=True)

    partner, secret = register_partner()
    answer = call(
        client,
        bearer(client, partner.client_id, secret),
        "/api/v1/certificates/verify",
        {"token": certificate.token, "purpose": "核验食品经营许可证"},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["status"] == "valid"
