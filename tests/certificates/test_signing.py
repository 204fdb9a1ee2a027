"""Tests for govservice.certificates.signing (PAdES signing and validation)."""

from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from govservice.certificates.signing import (
    DEV_ROOT_CERT_FILE,
    DEV_ROOT_KEY_FILE,
    DEV_SIGNING_CERT_FILE,
    DEV_SIGNING_KEY_FILE,
    SigningMaterial,
    ValidationReport,
    ensure_dev_pki,
    load_signing_material,
    sign_pdf,
    validate_pdf,
)

SIGNER_CN = "govservice 电子证照签章（开发）"
CONTENT_TEXT = b"Certificate ZZ-2024-000123 issued to Alice"

needs_pdfsig = pytest.mark.skipif(
    shutil.which("pdfsig") is None,
    reason="pdfsig not found: install poppler-utils (apt-get install poppler-utils)",
)


def make_pdf(text: bytes = CONTENT_TEXT) -> bytes:
    """A small uncompressed PDF whose page content contains ``text`` literally."""
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, pageCompression=0)
    c.setFont("Helvetica", 14)
    c.drawString(72, 760, text.decode("ascii"))
    c.rect(60, 700, 470, 90)
    c.showPage()
    c.save()
    return buf.getvalue()


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("pki") / "dev-pki"


@pytest.fixture(scope="module")
def material(pki_dir) -> SigningMaterial:
    return ensure_dev_pki(str(pki_dir))


@pytest.fixture(scope="module")
def signed_pdf(material) -> bytes:
    return sign_pdf(make_pdf(), material, reason="电子证照签发", location="上海市")


def run_pdfsig(tmp_path, data: bytes, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    proc = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60)
    return proc.stdout + proc.stderr


# --------------------------------------------------------------------------
# Development PKI
# --------------------------------------------------------------------------


def test_dev_pki_files_and_certificates(pki_dir, material):
    for name in (DEV_ROOT_CERT_FILE, DEV_ROOT_KEY_FILE, DEV_SIGNING_CERT_FILE, DEV_SIGNING_KEY_FILE):
        assert (pki_dir / name).is_file()
    for key in (DEV_ROOT_KEY_FILE, DEV_SIGNING_KEY_FILE):
        assert stat.S_IMODE(os.stat(pki_dir / key).st_mode) == 0o600

    root = x509.load_pem_x509_certificate((pki_dir / DEV_ROOT_CERT_FILE).read_bytes())
    leaf = x509.load_pem_x509_certificate((pki_dir / DEV_SIGNING_CERT_FILE).read_bytes())

    assert root.subject == root.issuer
    assert root.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "govservice 开发用根证书"
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    root_ku = root.extensions.get_extension_for_class(x509.KeyUsage).value
    assert root_ku.key_cert_sign
    assert (root.not_valid_after_utc - root.not_valid_before_utc).days >= 3650

    assert leaf.issuer == root.subject
    assert leaf.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == SIGNER_CN
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    leaf_ku = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert leaf_ku.digital_signature and leaf_ku.content_commitment
    assert 3 * 365 - 2 <= (leaf.not_valid_after_utc - leaf.not_valid_before_utc).days <= 3 * 365 + 2
    leaf.verify_directly_issued_by(root)

    assert material.signer_name == SIGNER_CN
    assert [c.dump() for c in material.trust_roots] == [root.public_bytes(serialization.Encoding.DER)]


def test_dev_pki_is_created_once_and_reused(pki_dir, material):
    before = {n: (pki_dir / n).read_bytes() for n in (DEV_SIGNING_CERT_FILE, DEV_SIGNING_KEY_FILE, DEV_ROOT_CERT_FILE)}
    again = ensure_dev_pki(str(pki_dir))
    assert again.signing_cert.dump() == material.signing_cert.dump()
    assert [c.dump() for c in again.trust_roots] == [c.dump() for c in material.trust_roots]
    after = {n: (pki_dir / n).read_bytes() for n in before}
    assert after == before


def test_load_signing_material_with_encrypted_key(tmp_path, pki_dir, material):
    key = serialization.load_pem_private_key((pki_dir / DEV_SIGNING_KEY_FILE).read_bytes(), password=None)
    enc_path = tmp_path / "signing.enc.pem"
    enc_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"s3cret"),
        )
    )
    loaded = load_signing_material(
        enc_path, pki_dir / DEV_SIGNING_CERT_FILE, [pki_dir / DEV_ROOT_CERT_FILE], key_passphrase="s3cret"
    )
    assert loaded.signing_cert.dump() == material.signing_cert.dump()
    signed = sign_pdf(make_pdf(), loaded, reason="测试", location="测试")
    report = validate_pdf(signed, loaded.trust_roots)
    assert report.valid, report.summary

    with pytest.raises(ValueError):
        load_signing_material(
            enc_path, pki_dir / DEV_SIGNING_CERT_FILE, [pki_dir / DEV_ROOT_CERT_FILE], key_passphrase="wrong"
        )
    with pytest.raises(FileNotFoundError):
        load_signing_material(tmp_path / "nope.pem", pki_dir / DEV_SIGNING_CERT_FILE, [])


# --------------------------------------------------------------------------
# Signing and validation with pyHanko
# --------------------------------------------------------------------------


def test_signed_pdf_is_intact_and_valid(material, signed_pdf):
    report = validate_pdf(signed_pdf, material.trust_roots)
    assert isinstance(report, ValidationReport)
    assert report.signed and report.intact and report.valid, report.summary
    assert report.modified_after_signing is False
    assert report.signer_name == SIGNER_CN
    assert report.signed_at is not None and report.signed_at.tzinfo is not None


def test_signature_is_pades_baseline(signed_pdf):
    reader = PdfReader(io.BytesIO(signed_pdf))
    fields = reader.get_fields()
    assert "Signature1" in fields
    sig = fields["Signature1"]["/V"].get_object()
    assert sig["/SubFilter"] == "/ETSI.CAdES.detached"
    assert sig["/Reason"] == "电子证照签发"
    assert sig["/Location"] == "上海市"
    assert len(sig["/ByteRange"]) == 4
    # the original document is still there unchanged (incremental update)
    assert signed_pdf.startswith(make_pdf()[:200])


def test_untrusted_roots_make_signature_intact_but_not_valid(tmp_path, signed_pdf):
    other = ensure_dev_pki(str(tmp_path / "other-pki"))
    for roots in ([], other.trust_roots):
        report = validate_pdf(signed_pdf, roots)
        assert report.signed and report.intact
        assert not report.valid
        assert "not trusted" in report.summary


def test_trust_roots_accept_pem_and_cryptography_certs(pki_dir, signed_pdf):
    pem = (pki_dir / DEV_ROOT_CERT_FILE).read_bytes()
    assert validate_pdf(signed_pdf, [pem]).valid
    assert validate_pdf(signed_pdf, [x509.load_pem_x509_certificate(pem)]).valid


def test_second_signature_keeps_document_valid(material, signed_pdf):
    twice = sign_pdf(signed_pdf, material, reason="复核", location="上海市", field_name="Signature2")
    report = validate_pdf(twice, material.trust_roots)
    assert report.signed and report.intact and report.valid, report.summary
    assert report.modified_after_signing is False


def tampered_bytes(signed: bytes) -> bytes:
    literal = b"(" + CONTENT_TEXT + b")"
    assert signed.count(literal) == 1, "content string should be uncompressed in the signed revision"
    altered = signed.replace(literal, literal.replace(b"Alice", b"Mallo"))
    assert len(altered) == len(signed)
    return altered


def test_altered_bytes_inside_signed_range_are_detected(material, signed_pdf):
    report = validate_pdf(tampered_bytes(signed_pdf), material.trust_roots)
    assert report.signed is True
    assert report.intact is False
    assert report.valid is False
    assert "altered" in report.summary


def test_incremental_update_changing_page_content_is_detected(material, signed_pdf):
    writer = IncrementalPdfFileWriter(io.BytesIO(signed_pdf))
    overlay = writer.add_object(generic.StreamObject(stream_data=b"q 1 0 0 rg 60 600 200 80 re f Q"))
    writer.add_stream_to_page(0, overlay)
    out = io.BytesIO()
    writer.write(out)
    report = validate_pdf(out.getvalue(), material.trust_roots)
    assert report.signed is True
    assert report.modified_after_signing is True
    assert report.valid is False
    assert "changed after signing" in report.summary


def test_unsigned_pdf_is_reported_as_unsigned(material):
    report = validate_pdf(make_pdf(), material.trust_roots)
    assert report.signed is False and report.intact is False and report.valid is False
    assert report.summary


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"garbage",
        os.urandom(4096),
        b"%PDF-1.7\n" + os.urandom(2048),
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
    ],
    ids=["empty", "text", "random", "pdf-header-random", "broken-structure"],
)
def test_garbage_is_reported_not_raised(material, data):
    report = validate_pdf(data, material.trust_roots)
    assert report.signed is False and report.valid is False
    assert report.summary


def test_truncated_signed_pdf_is_reported_not_raised(material, signed_pdf):
    for cut in (len(signed_pdf) // 2, len(signed_pdf) - 40):
        report = validate_pdf(signed_pdf[:cut], material.trust_roots)
        assert report.valid is False
        assert report.summary


# --------------------------------------------------------------------------
# Independent validation with poppler's pdfsig (NSS)
# --------------------------------------------------------------------------


@needs_pdfsig
def test_pdfsig_reports_signature_valid(tmp_path, signed_pdf):
    output = run_pdfsig(tmp_path, signed_pdf, "signed.pdf")
    assert "Signature is Valid" in output, output
    assert "Total document signed" in output, output
    assert SIGNER_CN in output


@needs_pdfsig
def test_pdfsig_rejects_altered_pdf(tmp_path, signed_pdf):
    output = run_pdfsig(tmp_path, tampered_bytes(signed_pdf), "altered.pdf")
    assert "Signature #1" in output, output
    assert "Signature is Valid" not in output, output
