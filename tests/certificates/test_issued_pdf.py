"""An issued certificate's PDF is valid for validators other than the code that signed it, an
altered one fails, and production signing material comes from configuration."""

import datetime as dt
import io
import shutil
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from govservice import create_app
from govservice.certificates import services, signing

from ..factories import DATA, issue, person

needs_pdfsig = pytest.mark.skipif(shutil.which("pdfsig") is None, reason="poppler-utils (pdfsig) not installed")


def _pdfsig(tmp_path, data: bytes, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    done = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


@needs_pdfsig
def test_poppler_validates_an_issued_certificate_and_rejects_an_altered_one(ctx, clock, tmp_path):
    certificate = issue("spjyxkz")
    pdf = services.pdf_bytes(certificate)
    report = _pdfsig(tmp_path, pdf, "licence.pdf")
    # PAdES B-LTA: the signature, then the validation data and the document time-stamp after it
    signature, stamp = report.split("Signature #2")
    assert "Signature is Valid" in signature and "ETSI.CAdES.detached" in signature, report
    assert "时间戳服务" in stamp, report

    # one byte inside the signed range, as a forger editing the file would change it
    middle = len(pdf) // 3
    altered = pdf[:middle] + bytes([pdf[middle] ^ 0x01]) + pdf[middle + 1 :]
    assert "Signature is Valid" not in _pdfsig(tmp_path, altered, "altered.pdf")
    ours = signing.validate_pdf(altered, services.pdf_signer().trust_roots)
    assert ours.signed and not ours.valid


def test_content_added_after_signing_is_reported(ctx, clock):
    pdf = services.pdf_bytes(issue())
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    overlay = writer.add_object(generic.StreamObject(stream_data=b"q 1 1 1 rg 100 400 300 60 re f Q"))
    writer.add_stream_to_page(0, overlay)  # white box over the printed details
    out = io.BytesIO()
    writer.write(out)
    report = signing.validate_pdf(out.getvalue(), services.pdf_signer().trust_roots)
    assert report.signed and report.modified_after_signing and not report.valid


def _write_production_pki(folder, passphrase: bytes):
    now = dt.datetime.now(dt.UTC)
    root_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "示例电子证照根CA")])
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "朝阳区电子证照签章")]))
        .issuer_name(root_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    folder.mkdir()
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase),
        )
    )
    (folder / "cert.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (folder / "chain.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
    return root


# Committed: a second app, with the production signing settings, issues on the test database.
@pytest.mark.committed
def test_production_key_and_chain_come_from_configuration(app, tmp_path, clock):
    root = _write_production_pki(tmp_path / "pki", b"s3cret")
    config = dict(
        app.config,
        SIGNING_KEY_FILE=str(tmp_path / "pki/key.pem"),
        SIGNING_CERT_FILE=str(tmp_path / "pki/cert.pem"),
        SIGNING_CHAIN_FILE=str(tmp_path / "pki/chain.pem"),
        SIGNING_KEY_PASSPHRASE="s3cret",
    )
    with app.app_context():
        dev_roots = services.pdf_signer().trust_roots
    production = create_app(config)
    production.extensions["clock"] = clock
    with production.app_context():
        material = services.pdf_signer()
        assert material.signer_name == "朝阳区电子证照签章"
        certificate = services.issue("yyzz", person("张三"), DATA["yyzz"])
        pdf = services.pdf_bytes(certificate)
        # signed with the configured key, time-stamped by the development TSA (TSA_URL unset)
        assert signing.validate_pdf(pdf, [root, *dev_roots]).valid
        assert not signing.validate_pdf(pdf, dev_roots).valid  # not the development CA's
        assert not signing.validate_pdf(pdf, [root]).valid  # the time-stamp's CA is needed too
        published = production.test_client().get("/.well-known/pdf-signing-ca.pem").data
        assert published.startswith(root.public_bytes(serialization.Encoding.PEM))
        assert published.count(b"BEGIN CERTIFICATE") == 2


def test_half_a_signing_configuration_is_an_error(app, tmp_path):
    with pytest.raises(RuntimeError, match="SIGNING_KEY_FILE and SIGNING_CERT_FILE"):
        services.signing_material({"SIGNING_KEY_FILE": str(tmp_path / "key.pem")}, str(tmp_path / "dev"))
    with pytest.raises(FileNotFoundError):
        services.signing_material(
            {"SIGNING_KEY_FILE": str(tmp_path / "key.pem"), "SIGNING_CERT_FILE": str(tmp_path / "cert.pem")},
            str(tmp_path / "dev"),
        )
