"""RFC 3161 time-stamps for long-term signatures (PAdES B-LTA), and the development TSA.

* :class:`TimestampUnavailable` (``tsa_errors.py``): the configured TSA did not answer, or answered with no token.
  It is an ``OSError``, so the issuing task treats it as a transient failure and tries again
  later: the case stays approved and no certificate exists until one is signed.
* :func:`timestamper`: the TSA a signature asks, from ``TSA_URL`` (pyHanko's HTTP client, RFC
  3161 over HTTP), or, unset, the development TSA of the development PKI, in this process.
* :class:`DevTimeStamper`: the development TSA. It answers any request with a token signed by
  a time-stamping certificate (extended key usage ``timeStamping``, critical) that the
  development root CA issued, with an EC P-256 key loaded once (pyHanko's own test TSA loads an
  RSA key per request, which costs a tenth of a second a stamp).
* ``python -m govservice.certificates.timestamps --port 5004`` serves it over HTTP (POST
  ``application/timestamp-query``, answers ``application/timestamp-reply``; ``GET /crl`` the
  development CA's CRL), for a deployment that points ``TSA_URL`` at it, and for tests that
  need a TSA to be slow or gone.

pyHanko is imported only inside the functions that sign: a web worker that signs nothing never
loads it.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import threading
from datetime import UTC, datetime

from .tsa_errors import TimestampUnavailable  # noqa: F401  (defined in a leaf: signing raises it too)

log = logging.getLogger(__name__)

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
MAX_QUERY_BYTES = 4096


def dev_timestamper(pki_dir: str):
    """The development TSA of the development PKI in ``pki_dir`` (created with it)."""
    from . import signing

    signing.ensure_dev_pki_files(pki_dir)
    return DevTimeStamper.from_files(
        os.path.join(pki_dir, signing.DEV_TSA_CERT_FILE),
        os.path.join(pki_dir, signing.DEV_TSA_KEY_FILE),
        os.path.join(pki_dir, signing.DEV_ROOT_CERT_FILE),
    )


def timestamper(config, pki_dir: str):
    """The TSA new signatures are stamped by: ``TSA_URL``, else the development TSA."""
    url = config.get("TSA_URL")
    if url:
        from pyhanko.keys import load_certs_from_pemder
        from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

        stamper = RequestsHTTPTimeStamper(url, timeout=float(config.get("TSA_TIMEOUT") or 5))
        files = [p.strip() for p in (config.get("TSA_CA_FILE") or "").split(",") if p.strip()]
        # the TSA's CA: the signature embeds the validation data of its chain too
        stamper.trust_roots = list(load_certs_from_pemder(files)) if files else []
        return stamper
    if config.get("ENV_NAME", "development") != "development":
        log.warning("TSA_URL is not set: signatures are time-stamped by the DEVELOPMENT TSA in %s", pki_dir)
    return dev_timestamper(pki_dir)


def _dev_timestamper_class():
    from asn1crypto import algos, cms, core, tsp, x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from pyhanko.sign.timestamps.common_utils import get_nonce
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    class _DevTimeStamper(DummyTimeStamper):
        """pyHanko's test TSA (RFC 3161 request in, TimeStampResp out) with an EC key kept loaded,
        its responses made from DER parts (`response_der`) rather than by its own builders."""

        def __init__(self, tsa_cert, tsa_key_pem: bytes, chain):
            from asn1crypto import keys

            self._key = serialization.load_pem_private_key(tsa_key_pem, password=None)
            if not isinstance(self._key, ec.EllipticCurvePrivateKey):
                raise ValueError("the development TSA key must be an EC key")
            der = self._key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            super().__init__(tsa_cert, keys.PrivateKeyInfo.load(der), certs_to_embed=chain, override_md="sha256")
            from pyhanko.sign import general

            # It names the TSA's certificate only: built once, as DER (asn1crypto re-encodes the
            # certificate thousands of times over to build it: most of a time-stamp's cost).
            self._signing_certificate = general.simple_cms_attribute(
                "signing_certificate_v2", general.as_signing_certificate_v2(tsa_cert)
            ).dump()
            self._der = self._parts()

        def _parts(self) -> dict[str, bytes]:
            """The DER of everything in a response that depends on the TSA alone."""
            certificates = cms.SignedData({"certificates": {*self.certs_to_embed, self.tsa_cert}})
            template = tsp.TSTInfo(
                {
                    "version": "v1",
                    "policy": POLICY,
                    "message_imprint": {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": b"\0" * 32},
                    "serial_number": 1,
                    "gen_time": datetime(2026, 1, 1, tzinfo=UTC),
                    "tsa": x509.GeneralName(name="directory_name", value=self.tsa_cert.subject),
                }
            )
            return {
                "version": template["version"].dump(),
                "policy": template["policy"].dump(),
                "tsa": template["tsa"].dump(),
                "sid": cms.IssuerAndSerialNumber(
                    {"issuer": self.tsa_cert.issuer, "serial_number": self.tsa_cert.serial_number}
                ).dump(),
                "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}).dump(),
                "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}).dump(),
                "certificates": certificates["certificates"].dump(),
                "content_type_attr": cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}).dump(),
                "signing_time_oid": cms.CMSAttributeType("signing_time").dump(),
                "message_digest_oid": cms.CMSAttributeType("message_digest").dump(),
                "tst_info_oid": cms.ContentType("tst_info").dump(),
                "signed_data_oid": cms.ContentType("signed_data").dump(),
                "granted": tsp.PKIStatusInfo({"status": "granted"}).dump(),
            }

        def request_tsa_response(self, req):
            return tsp.TimeStampResp.load(self.response_der(req, datetime.now(UTC), get_nonce()))

        def tst_info_der(self, req, at: datetime, serial: int) -> bytes:
            """The TSTInfo (RFC 3161 2.4.2) that pyHanko's ``_build_tst_info`` builds, encoded
            from its parts: version, policy, the request's message imprint, serial, time, the
            request's nonce, the TSA's name."""
            parts = self._der
            nonce = req["nonce"]
            return _tlv(
                0x30,
                parts["version"]
                + parts["policy"]
                + req["message_imprint"].dump()
                + core.Integer(serial).dump()
                + core.GeneralizedTime(at).dump()
                + (nonce.dump() if nonce.native is not None else b"")
                + parts["tsa"],
            )

        def response_der(self, req, at: datetime, serial: int) -> bytes:
            """A granted TimeStampResp, as DER, made from DER: what depends on the TSA alone (its
            name, issuer and serial, the certificates, the algorithms) was encoded once, at
            start; asn1crypto builds only the few small values of this answer. Building the
            same response as asn1crypto objects (pyHanko's ``request_tsa_response``) copies and
            re-encodes the certificates it embeds, some 3 ms a stamp, two stamps a certificate."""
            parts = self._der
            tst_info = self.tst_info_der(req, at, serial)
            attributes = b"".join(
                sorted(  # DER: a SET OF in the order of its elements' encodings
                    (
                        parts["content_type_attr"],
                        _tlv(0x30, parts["signing_time_oid"] + _tlv(0x31, cms.Time({"utc_time": at}).dump())),
                        self._signing_certificate,
                        _tlv(
                            0x30,
                            parts["message_digest_oid"] + _tlv(0x31, _tlv(0x04, hashlib.sha256(tst_info).digest())),
                        ),
                    )
                )
            )
            signature = self._key.sign(_tlv(0x31, attributes), ec.ECDSA(hashes.SHA256()))
            signer_info = _tlv(
                0x30,
                b"\x02\x01\x01"  # version 1: issuerAndSerialNumber
                + parts["sid"]
                + parts["digest_algorithm"]
                + _tlv(0xA0, attributes)  # [0] IMPLICIT SET OF Attribute
                + parts["signature_algorithm"]
                + _tlv(0x04, signature),
            )
            signed_data = _tlv(
                0x30,
                b"\x02\x01\x03"  # version 3: encapsulated content other than id-data
                + _tlv(0x31, parts["digest_algorithm"])
                + _tlv(0x30, parts["tst_info_oid"] + _tlv(0xA0, _tlv(0x04, tst_info)))
                + parts["certificates"]
                + _tlv(0x31, signer_info),
            )
            token = _tlv(0x30, parts["signed_data_oid"] + _tlv(0xA0, signed_data))
            return _tlv(0x30, parts["granted"] + token)

    return _DevTimeStamper


#: the TSA policy the development TSA names (pyHanko's test TSA's)
POLICY = "1.3.6.1.4.1.4146.2.2"


def _tlv(tag: int, content: bytes) -> bytes:
    """One DER element: ``tag``, the definite length of ``content``, ``content``."""
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


class DevTimeStamper:
    """Factory of the development TSA (the class itself needs pyHanko, imported on first use)."""

    _cls = None
    _lock = threading.Lock()

    @classmethod
    def from_files(cls, cert_path: str, key_path: str, root_path: str):
        from pyhanko.keys import load_cert_from_pemder

        with cls._lock:
            if cls._cls is None:
                cls._cls = _dev_timestamper_class()
        with open(key_path, "rb") as fh:
            key = fh.read()
        root = load_cert_from_pemder(root_path)
        stamper = cls._cls(load_cert_from_pemder(cert_path), key, [root])
        stamper.trust_roots = [root]
        return stamper


# --------------------------------------------------------------------------- the TSA over HTTP


def _rejection(text: str):
    """A TimeStampResp that refuses (status rejection, badDataFormat) and so has no token:
    asn1crypto's TimeStampResp makes the token mandatory, RFC 3161 does not."""
    from asn1crypto import core, tsp

    class Rejection(core.Sequence):
        _fields = [("status", tsp.PKIStatusInfo)]

    return Rejection(
        {
            "status": {
                "status": "rejection",
                "status_string": [text],
                "fail_info": tsp.PKIFailureInfo({"bad_data_format"}),
            }
        }
    )


def create_tsa_app(pki_dir: str):
    """A WSGI app answering RFC 3161 requests with the development TSA of ``pki_dir``."""
    from asn1crypto import tsp
    from flask import Flask, Response, request

    from . import signing

    stamper = dev_timestamper(pki_dir)
    app = Flask("govservice-dev-tsa")

    @app.post("/")
    def stamp():
        body = request.get_data(cache=False)
        if request.mimetype != QUERY_TYPE or not body or len(body) > MAX_QUERY_BYTES:
            reply = _rejection("expected one application/timestamp-query")
        else:
            try:
                query = tsp.TimeStampReq.load(body)
                query.native  # parse it all now: asn1crypto is lazy  # noqa: B018
                reply = stamper.request_tsa_response(query)
            except Exception as exc:  # noqa: BLE001 - any malformed request is refused, never a 500
                log.info("development TSA refused a malformed request: %s", exc)
                reply = _rejection("malformed TimeStampReq")
        return Response(reply.dump(), mimetype=REPLY_TYPE)

    @app.get("/crl")
    def crl():
        return Response(signing.dev_crl(pki_dir).dump(), mimetype="application/pkix-crl")

    return app


def serve_in_thread(pki_dir: str, host: str = "127.0.0.1", port: int = 0):
    """Serve the development TSA from a daemon thread; ``server.shutdown()`` stops it."""
    from werkzeug.serving import make_server

    server = make_server(host, port, create_tsa_app(pki_dir), threaded=True)
    threading.Thread(target=server.serve_forever, name=f"dev-tsa-{server.server_port}", daemon=True).start()
    return server


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="The development time-stamping authority (RFC 3161 over HTTP)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5004)
    parser.add_argument(
        "--pki",
        default=os.path.join(os.environ.get("GOVSERVICE_INSTANCE", "instance"), "keys", "pki"),
        help="the development PKI folder (the one the platform signs with)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    from werkzeug.serving import run_simple

    run_simple(args.host, args.port, create_tsa_app(args.pki), threaded=True)


if __name__ == "__main__":
    main()
