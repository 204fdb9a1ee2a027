"""The development TSA's answers, built from DER parts (``timestamps.py``), are the RFC 3161
responses pyHanko's own test TSA builds as asn1crypto objects: the same TSTInfo, canonical DER,
and a token whose signature verifies with the TSA's certificate and whose chain leads to the
development root."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib

import pytest
from asn1crypto import cms, tsp
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import load_der_x509_certificate
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko_certvalidator import ValidationContext

from govservice.certificates import signing, timestamps


@pytest.fixture(scope="module")
def stamper(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tsa-pki")
    signing.ensure_dev_pki(folder)
    return timestamps.dev_timestamper(str(folder))


def _request(digest: bytes):
    nonce, query = TimeStamper().request_cms(digest, "sha256")
    return nonce, tsp.TimeStampReq.load(query.dump())  # as the TSA over HTTP receives it


def test_the_tst_info_is_pyhankos(stamper):
    _, query = _request(hashlib.sha256(b"document").digest())
    at = dt.datetime(2026, 12, 2, 1, 2, 3, 456789, tzinfo=dt.UTC)
    reference = stamper._build_tst_info(query["message_imprint"], at, query)  # pyHanko's test TSA's
    reference["serial_number"] = 12345
    assert stamper.tst_info_der(query, at, 12345) == reference.dump()


def test_a_response_is_canonical_der_and_its_token_verifies(stamper):
    digest = hashlib.sha256(b"document").digest()
    nonce, query = _request(digest)
    answer = stamper.request_tsa_response(query)
    der = answer.dump()
    assert tsp.TimeStampResp.load(der).dump(force=True) == der  # asn1crypto encodes it so, field by field
    assert answer["status"]["status"].native == "granted"

    signed_data = answer["time_stamp_token"]["content"]
    info = signed_data["encap_content_info"]["content"].parsed
    assert info["message_imprint"]["hashed_message"].native == digest
    assert info["nonce"].native == nonce
    assert info["tsa"].chosen.native == stamper.tsa_cert.subject.native
    assert abs(info["gen_time"].native - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)

    signer = signed_data["signer_infos"][0]
    attributes = {a["type"].native: a["values"][0] for a in signer["signed_attrs"]}
    assert attributes["content_type"].native == "tst_info"
    assert attributes["message_digest"].native == hashlib.sha256(info.dump()).digest()
    assert attributes["signing_certificate_v2"]["certs"][0]["cert_hash"].native == stamper.tsa_cert.sha256
    signed = signer["signed_attrs"].untag().dump(force=True)  # the SET OF the signature covers
    key = load_der_x509_certificate(stamper.tsa_cert.dump()).public_key()
    key.verify(signer["signature"].native, signed, ec.ECDSA(hashes.SHA256()))  # raises if it does not

    status = asyncio.run(
        validate_tst_signed_data(
            signed_data,
            ValidationContext(trust_roots=stamper.trust_roots, allow_fetching=False, revocation_mode="soft-fail"),
            lambda algorithm: digest,
        )
    )
    assert status["intact"] and status["valid"] and status["trust_problem_indic"] is None, status


def test_two_responses_differ_in_serial_and_signature(stamper):
    _, query = _request(b"\x00" * 32)
    one, two = (stamper.request_tsa_response(query)["time_stamp_token"]["content"] for _ in range(2))
    serial = [s["encap_content_info"]["content"].parsed["serial_number"].native for s in (one, two)]
    assert serial[0] != serial[1]
    assert isinstance(one, cms.SignedData)
