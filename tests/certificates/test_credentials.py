"""Verifiable credentials: the holder exports a certificate as an SD-JWT VC, which the IETF
reference implementation (`sd-jwt`) verifies, also as a presentation disclosing only the chosen
fields; and as a W3C VC 2.0 secured with JOSE (checked with jwcrypto). Both name a Bitstring
Status List entry whose list, fetched alone, shows revocation and suspension."""

from __future__ import annotations

import base64
import gzip
import json

import pytest
from jwcrypto import jwk, jws
from sd_jwt.holder import SDJWTHolder
from sd_jwt.verifier import SDJWTVerifier

from govservice.certificates import lifecycle

from ..factories import DATA, issue
from ..factories import person as staff


def _keys(app):
    return {k["kid"]: jwk.JWK(**k) for k in app.test_client().get("/.well-known/jwks.json").get_json()["keys"]}


def _verified_payload(token: str, keys) -> dict:
    """A JOSE-secured credential checked with jwcrypto against the published keys alone."""
    signed = jws.JWS()
    signed.deserialize(token)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    signed.verify(keys[header["kid"]], alg="ES256")
    return header, json.loads(signed.payload)


def _bit(app, keys, entry: dict) -> int:
    """What a verifier holding only the status list reads for an entry."""
    answer = app.test_client().get(entry["statusListCredential"].replace(app.config["PUBLIC_URL"], ""))
    assert answer.status_code == 200 and answer.mimetype == "application/vc+jwt"
    header, credential = _verified_payload(answer.get_data(as_text=True), keys)
    assert header["typ"] == "vc+jwt" and "BitstringStatusListCredential" in credential["type"]
    subject = credential["credentialSubject"]
    assert subject["statusPurpose"] == entry["statusPurpose"] and subject["encodedList"].startswith("u")
    bits = gzip.decompress(base64.urlsafe_b64decode(subject["encodedList"][1:] + "=="))
    assert len(bits) * 8 >= 131072
    index = int(entry["statusListIndex"])
    return (bits[index // 8] >> (7 - index % 8)) & 1


def test_an_sd_jwt_vc_verifies_with_the_reference_library_and_discloses_only_what_is_chosen(
    app, ctx, clock, client, login_as
):
    certificate = issue("yyzz")
    login_as(client, "张三")
    assert "SD-JWT VC" in client.get("/wallet").get_data(as_text=True)
    answer = client.get(f"/wallet/{certificate.identifier}/credential.sd-jwt")
    assert answer.status_code == 200 and answer.mimetype == "application/dc+sd-jwt"
    issuance = answer.get_data(as_text=True)
    keys = _keys(app)

    def issuer_key(issuer, header):
        assert issuer == app.config["PUBLIC_URL"]
        return keys[header["kid"]]

    everything = SDJWTVerifier(issuance, issuer_key).get_verified_payload()
    assert {name: everything[name] for name in DATA["yyzz"]} == DATA["yyzz"]
    assert everything["jti"] == certificate.identifier and everything["vct"].endswith("/credentials/types/yyzz")

    holder = SDJWTHolder(issuance)
    holder.create_presentation({"business_name": True, "credit_code": True})
    shown = SDJWTVerifier(holder.sd_jwt_presentation, issuer_key).get_verified_payload()
    assert shown["business_name"] == DATA["yyzz"]["business_name"] and shown["credit_code"]
    assert "operator_id_number" not in shown and "operator_name" not in shown
    assert (
        DATA["yyzz"]["operator_id_number"]
        not in base64.urlsafe_b64decode(holder.sd_jwt_presentation.split("~")[0].split(".")[1] + "==").decode()
    )  # only a salted digest

    # one changed byte of the signed part, or a disclosure the issuer never made: refused
    jwt_part, *rest = issuance.split("~")
    head, payload, signature = jwt_part.split(".")
    altered = f"{head}.{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}{payload[-1]}.{signature}"
    with pytest.raises((jws.InvalidJWSSignature, ValueError)):  # the signature, or the JSON it covers
        SDJWTVerifier("~".join([altered, *rest]), issuer_key)
    forged = base64.urlsafe_b64encode(json.dumps(["c2FsdA", "business_name", "别家公司"]).encode()).rstrip(b"=")
    forged_presentation = f"{jwt_part}~{forged.decode()}~"
    assert "business_name" not in SDJWTVerifier(forged_presentation, issuer_key).get_verified_payload()

    # revocation shows to a verifier holding only the status list
    [revocation] = [e for e in everything["credentialStatus"] if e["statusPurpose"] == "revocation"]
    assert _bit(app, keys, revocation) == 0
    lifecycle.revoke(certificate.id, staff("刘洋"), "以欺骗手段取得登记")
    assert _bit(app, keys, revocation) == 1


def test_a_w3c_vc_is_jose_secured_and_its_suspension_is_in_the_status_list(app, ctx, clock, client, login_as):
    certificate = issue("yyzz")
    login_as(client, "张三")
    answer = client.get(f"/wallet/{certificate.identifier}/credential.vc.jwt")
    assert answer.status_code == 200 and answer.mimetype == "application/vc+jwt"
    keys = _keys(app)
    header, credential = _verified_payload(answer.get_data(as_text=True), keys)
    assert (header["typ"], header["cty"]) == ("vc+jwt", "vc")
    assert credential["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert credential["credentialSubject"]["business_name"] == DATA["yyzz"]["business_name"]
    [suspension] = [e for e in credential["credentialStatus"] if e["statusPurpose"] == "suspension"]
    assert suspension["type"] == "BitstringStatusListEntry"

    officer = staff("刘洋")
    lifecycle.suspend(certificate.id, officer, "责令停业整顿")
    assert _bit(app, keys, suspension) == 1
    lifecycle.resume(certificate.id, officer, "整改完成")
    assert _bit(app, keys, suspension) == 0

    with pytest.raises(jws.InvalidJWSSignature):  # one changed byte of the signature
        token = answer.get_data(as_text=True)
        _verified_payload(token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:], keys)
    assert app.test_client().get("/credentials/status/other/0").status_code == 404
    stranger = app.test_client()
    login_as(stranger, "李娜")
    assert stranger.get(f"/wallet/{certificate.identifier}/credential.vc.jwt").status_code == 403
