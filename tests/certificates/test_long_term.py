"""PAdES B-LTA: a certificate's PDF carries an RFC 3161 time-stamp from the TSA, the CA's CRL and
a document time-stamp, so it still validates after the signing certificate expired; a TSA that
does not answer holds the certificate back (the case stays approved, nothing is lost) until a
later run signs it.

The validators are pyHanko's AdES validator (ETSI EN 319 102-1, at a validation time two days
after a one-hour signing certificate expired) and poppler's pdfsig (NSS) with the development
root trusted in an NSS database, run at the faked later time with libfaketime.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess

import pytest
import requests
from asn1crypto import core, tsp
from pyhanko.pdf_utils.reader import PdfFileReader

from govservice.cases.models import Case
from govservice.certificates import pdf, services, signing, tasks, timestamps
from govservice.certificates.models import Certificate
from govservice.core.extensions import db

from ..factories import in_review_case
from ..factories import person as staff
from ..ports import free_port

needs_nss = pytest.mark.skipif(
    not (shutil.which("pdfsig") and shutil.which("certutil") and shutil.which("faketime")),
    reason="pdfsig, certutil and faketime are needed (apt-get install poppler-utils libnss3-tools faketime; .ci/run does)",  # noqa: E501
)

LATER = dt.timedelta(days=2)  # the validation time: two days after now, the signing certificate lives one hour


@pytest.fixture(scope="module")
def short_pki(tmp_path_factory):
    """A development PKI whose signing certificate expires an hour from now."""
    folder = tmp_path_factory.mktemp("short-pki")
    return folder, signing.ensure_dev_pki(folder, signing_validity=dt.timedelta(hours=1))


@pytest.fixture(scope="module")
def tsa(short_pki):
    """The development TSA of that PKI, over HTTP."""
    server = timestamps.serve_in_thread(str(short_pki[0]))
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


def _http_stamper(url, folder):
    return timestamps.timestamper(
        {"TSA_URL": url, "TSA_TIMEOUT": 2, "TSA_CA_FILE": str(folder / signing.DEV_ROOT_CERT_FILE)}, str(folder)
    )


@pytest.fixture(scope="module")
def signed(short_pki, tsa):
    """One certificate page, signed B-LTA through the HTTP TSA, and the same page signed B-B."""
    folder, material = short_pki
    page = pdf.render_certificate_pdf(
        title="营业执照",
        subtitle=None,
        rows=[("名称", "北京市朝阳区张三便利店")],
        identifier="TEST-LTA",
        issuer_name="朝阳区市场监督管理局",
        issued_on="2026年12月01日",
        valid_until="长期",
        verify_url="http://localhost/v/test",
        font=pdf.find_cjk_font(None),
    )
    lta = signing.sign_pdf(
        page, material, reason="签发营业执照", location="http://localhost", timestamper=_http_stamper(tsa, folder)
    )
    basic = signing.sign_pdf(page, material, reason="签发营业执照", location="http://localhost")
    return lta, basic


def _altered(data: bytes) -> bytes:
    middle = len(data) // 3  # inside the first signature's signed range
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]


def test_pyhanko_validates_the_long_term_signature_after_the_signing_certificate_expired(short_pki, signed):
    _, material = short_pki
    lta, basic = signed
    expiry = material.signing_cert["tbs_certificate"]["validity"]["not_after"].native
    later = expiry + LATER
    now = signing.validate_pdf_lta(lta, material.trust_roots)
    after = signing.validate_pdf_lta(lta, material.trust_roots, at=later)
    assert now.valid and after.valid, (now, after)
    assert after.signed_at is not None and after.signed_at < expiry  # the TSA's time, not the validator's
    # without the time-stamp and the embedded CRL, the same signature does not survive its certificate
    assert not signing.validate_pdf_lta(basic, material.trust_roots, at=later).valid
    # one changed byte, or a validator that does not trust the development root: refused
    assert not signing.validate_pdf_lta(_altered(lta), material.trust_roots, at=later).valid
    assert not signing.validate_pdf_lta(lta, [], at=later).valid


def test_the_pdf_carries_the_time_stamp_and_the_crl(short_pki, signed):
    lta, _ = signed
    reader = PdfFileReader(io.BytesIO(lta))
    dss = reader.root["/DSS"]
    assert len(dss["/CRLs"]) >= 1 and len(dss["/Certs"]) >= 2
    assert [s.sig_object["/SubFilter"] for s in reader.embedded_signatures] == ["/ETSI.CAdES.detached", "/ETSI.RFC3161"]
    report = signing.validate_pdf(lta, short_pki[1].trust_roots)
    assert report.valid and not report.modified_after_signing, report.summary


def test_the_document_time_stamp_covers_the_validation_data(short_pki, signed):
    """Nothing follows the document time-stamp: the DSS it protects (the chains' certificates and
    the CRL, the TSA's among them) is in the file before it."""
    lta, _ = signed
    reader = PdfFileReader(io.BytesIO(lta))
    stamp = reader.embedded_signatures[-1]
    assert stamp.sig_object["/SubFilter"] == "/ETSI.RFC3161"
    _, _, start, length = (int(n) for n in stamp.sig_object["/ByteRange"])
    assert start + length == len(lta)  # the time-stamp's byte range reaches the end of the file
    covered = reader.get_historical_resolver(stamp.signed_revision).root["/DSS"]
    assert len(covered["/CRLs"]) >= 1 and len(covered["/Certs"]) >= 3  # signer, TSA, root


def test_a_second_long_term_signature_keeps_both_valid(short_pki, signed, tsa):
    folder, material = short_pki
    lta, _ = signed
    again = signing.sign_pdf(
        lta,
        material,
        reason="再次签章",
        location="http://localhost",
        field_name="Signature2",
        timestamper=_http_stamper(tsa, folder),
    )
    report = signing.validate_pdf(again, material.trust_roots)
    assert report.valid and len(report.details) == 2, report.summary
    assert signing.validate_pdf_lta(again, material.trust_roots).valid


def _nss_db(tmp_path, root_pem):
    db_dir = tmp_path / "nss"
    db_dir.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{db_dir}", "--empty-password"], check=True, timeout=30)
    subprocess.run(
        ["certutil", "-A", "-d", f"sql:{db_dir}", "-n", "govservice-dev-root", "-t", "C,C,C", "-i", str(root_pem)],
        check=True,
        timeout=30,
    )
    return db_dir


def _pdfsig(nss, path, offset: str | None = None) -> str:
    command = ["pdfsig", "-nssdir", f"sql:{nss}", str(path)]
    if offset:
        command = ["faketime", "-f", offset, *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


@needs_nss
def test_pdfsig_accepts_the_signature_now_and_after_expiry_and_rejects_an_altered_copy(tmp_path, short_pki, signed):
    folder, _ = short_pki
    lta, _ = signed
    nss = _nss_db(tmp_path, folder / signing.DEV_ROOT_CERT_FILE)
    good, bad = tmp_path / "lta.pdf", tmp_path / "altered.pdf"
    good.write_bytes(lta)
    bad.write_bytes(_altered(lta))

    now = _pdfsig(nss, good).split("Signature #2")[0]
    assert "Signature is Valid" in now and "Certificate is Trusted" in now, now

    after = _pdfsig(nss, good, f"+{LATER.days}d").split("Signature #2")[0]
    # the signature over the document still verifies two days after the certificate expired.
    # poppler 22.12 judges the certificate at the (faked) current time and does not read the
    # time-stamp (it reports the document time-stamp as a type it cannot validate), so its
    # certificate line says expired: the long-term verdict is pyHanko's, above.
    assert "Signature is Valid" in after and "Certificate has Expired" in after, after

    altered = _pdfsig(nss, bad, f"+{LATER.days}d")
    assert "Signature #1" in altered and "Signature is Valid" not in altered.split("Signature #2")[0], altered


def test_the_development_tsa_answers_rfc_3161_and_refuses_garbage(tsa):
    from pyhanko.sign.timestamps.api import TimeStamper

    nonce, query = TimeStamper().request_cms(b"\x00" * 32, "sha256")
    answer = requests.post(tsa, data=query.dump(), headers={"Content-Type": timestamps.QUERY_TYPE}, timeout=5)
    assert answer.headers["Content-Type"] == timestamps.REPLY_TYPE
    reply = tsp.TimeStampResp.load(answer.content)
    assert reply["status"]["status"].native == "granted"
    info = reply["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["message_imprint"]["hashed_message"].native == b"\x00" * 32
    assert info["nonce"].native == nonce

    for body, kind in ((b"not a query", timestamps.QUERY_TYPE), (query.dump(), "text/plain")):
        answer = requests.post(tsa, data=body, headers={"Content-Type": kind}, timeout=5)
        assert answer.status_code == 200
        status = tsp.PKIStatusInfo.load(core.Sequence.load(answer.content)[0].dump())  # no token: no TimeStampResp
        assert status["status"].native == "rejection" and status["fail_info"].native == {"bad_data_format"}
    assert requests.get(tsa + "crl", timeout=5).headers["Content-Type"] == "application/pkix-crl"


def test_a_tsa_that_does_not_answer_holds_the_certificate_until_a_later_run(ctx, clock, monkeypatch, short_pki, tsa):
    folder, _ = short_pki
    monkeypatch.setattr(tasks.time, "sleep", lambda seconds: None)
    ctx.extensions["pdf_timestamper"] = _http_stamper(f"http://127.0.0.1:{free_port()}/", folder)
    case = in_review_case()
    from govservice.review import services as review

    review.decide(case.id, staff("刘洋"), case.version, approve=True, opinion="准予登记")  # no error for the officer

    assert db.session.get(Case, case.id).state == "approved"
    assert db.session.execute(db.select(Certificate).where(Certificate.case_id == case.id)).first() is None
    clock.advance(seconds=services.RETRY_AFTER_SECONDS + 1)
    assert services.retry_pending() == []  # still down: still approved, still nothing issued
    assert db.session.get(Case, case.id).state == "approved"

    ctx.extensions["pdf_timestamper"] = _http_stamper(tsa, folder)  # the TSA is back
    assert services.retry_pending() == [case.id]
    certificate = db.session.execute(db.select(Certificate).where(Certificate.case_id == case.id)).scalar_one()
    assert db.session.get(Case, case.id).state == "completed"
    stamped = services.pdf_bytes(certificate)
    assert signing.validate_pdf(stamped, services.pdf_trust_roots()).valid
    assert services.retry_pending() == []


def test_a_worker_starts_while_the_tsa_is_down(ctx, short_pki, caplog):
    from govservice.certificates import issuance

    ctx.extensions["pdf_timestamper"] = _http_stamper(f"http://127.0.0.1:{free_port()}/", short_pki[0])
    issuance.warm_up()  # no exception: the worker comes up, its issuances retry the TSA
    assert "warm-up without the TSA" in caplog.text
