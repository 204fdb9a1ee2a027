"""PAdES signatures on certificate PDFs (pyHanko) and their validation.

Pure library code: no Flask app, no database; callers pass paths and values.

* :func:`ensure_dev_pki` creates (once) and then reuses a development PKI: a
  root CA and a document-signing certificate issued by it, as PEM files.
* :func:`load_signing_material` loads production key material from files.
* :func:`sign_pdf` adds an invisible PAdES baseline B-B signature
  (``/ETSI.CAdES.detached``, SHA-256) as an incremental update, in memory.

Signing is on every issuance's path, so what can be done once is: the key and
chain are loaded once per :class:`SigningMaterial` (once per process), and the
space the signature needs in the file is estimated by pyHanko on the first
signature only (estimating means a second, dummy CMS signature each time).
* :func:`validate_pdf` checks every signature in a PDF against the given
  trust roots and reports; it never raises for broken input.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import io
import logging
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from asn1crypto import cms
from pyhanko.sign import fields, signers
from pyhanko.sign.attributes import CMSAttributeProvider, SignedAttributeProviderSpec
from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

logger = logging.getLogger(__name__)

__all__ = [
    "DEV_ROOT_CERT_FILE",
    "DEV_ROOT_KEY_FILE",
    "DEV_SIGNING_CERT_FILE",
    "DEV_SIGNING_KEY_FILE",
    "SigningMaterial",
    "ValidationReport",
    "ensure_dev_pki",
    "load_signing_material",
    "sign_pdf",
    "validate_pdf",
]

DEV_ROOT_CERT_FILE = "dev-root-ca.pem"
DEV_ROOT_KEY_FILE = "dev-root-ca.key.pem"
DEV_SIGNING_CERT_FILE = "dev-signing.pem"
DEV_SIGNING_KEY_FILE = "dev-signing.key.pem"

DEV_ROOT_CN = "govservice 开发用根证书"
DEV_SIGNING_CN = "govservice 电子证照签章（开发）"


@dataclass(frozen=True)
class SigningMaterial:
    """A pyHanko signer plus the certificates a verifier should trust.

    ``trust_roots`` are asn1crypto certificates (the CA certificates); pass
    them to :func:`validate_pdf`.
    """

    signer: signers.SimpleSigner
    trust_roots: tuple[asn1_x509.Certificate, ...]
    cert_path: str | None = None
    # bytes pyHanko reserved for the CMS container on the first signature; reused after
    # (the container's size does not depend on the document)
    _reserved: list[int] = field(default_factory=list, compare=False, repr=False)

    @property
    def signing_cert(self) -> asn1_x509.Certificate:
        return self.signer.signing_cert

    @property
    def signer_name(self) -> str:
        return _cert_name(self.signer.signing_cert)


@dataclass(frozen=True)
class ValidationReport:
    """Outcome of :func:`validate_pdf`.

    * ``signed``: the PDF has at least one signature.
    * ``intact``: every signature's digest matches the signed bytes and the
      signature value verifies (nothing in a signed byte range was altered).
    * ``valid``: intact, the signer's chain leads to one of the trust roots,
      and nothing outside the signature's permissions was added afterwards.
    * ``modified_after_signing``: the file contains incremental updates after
      the (last) signature, whatever they change.
    """

    signed: bool
    intact: bool
    valid: bool
    signer_name: str | None = None
    signed_at: dt.datetime | None = None
    modified_after_signing: bool = False
    summary: str = ""
    details: tuple[str, ...] = field(default=(), repr=False)


# --------------------------------------------------------------------------
# Key material
# --------------------------------------------------------------------------


def _cert_name(cert: asn1_x509.Certificate) -> str:
    try:
        cn = cert.subject.native.get("common_name")
    except Exception:  # pragma: no cover - exotic subject encodings
        cn = None
    if isinstance(cn, list):
        cn = cn[0] if cn else None
    return str(cn) if cn else cert.subject.human_friendly


def _is_self_signed(cert: asn1_x509.Certificate) -> bool:
    return cert.subject == cert.issuer


def _to_asn1(cert) -> asn1_x509.Certificate:
    if isinstance(cert, asn1_x509.Certificate):
        return cert
    if isinstance(cert, x509.Certificate):
        return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    if isinstance(cert, (bytes, bytearray)):
        data = bytes(cert)
        if asn1_pem.detect(data):
            _, _, data = asn1_pem.unarmor(data)
        return asn1_x509.Certificate.load(data)
    raise TypeError(f"unsupported trust root type: {type(cert).__name__}")


def _write_private(path: Path, data: bytes, mode: int) -> None:
    """Atomically write ``data`` to ``path`` with the given permissions."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _dir_lock(directory: Path) -> Iterator[None]:
    """Serialise PKI creation between processes (e.g. several workers)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX
        yield
        return
    with open(directory / ".pki.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "govservice"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Development only"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _generate_dev_pki(directory: Path) -> None:
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    not_before = now - dt.timedelta(minutes=5)

    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name(DEV_ROOT_CN)
    root_ski = x509.SubjectKeyIdentifier.from_public_key(root_key.public_key())
    root_cert = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(now + dt.timedelta(days=3652))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(root_ski, critical=False)
        .sign(root_key, hashes.SHA256())
    )

    signing_key = ec.generate_private_key(ec.SECP256R1())
    signing_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(DEV_SIGNING_CN))
        .issuer_name(root_name)
        .public_key(signing_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(now + dt.timedelta(days=3 * 365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # nonRepudiation
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(signing_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski), critical=False)
        .sign(root_key, hashes.SHA256())
    )

    def key_pem(key) -> bytes:
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    # keys first, certificates last: the signing certificate's presence marks
    # a complete PKI for _dev_pki_complete().
    _write_private(directory / DEV_ROOT_KEY_FILE, key_pem(root_key), 0o600)
    _write_private(directory / DEV_SIGNING_KEY_FILE, key_pem(signing_key), 0o600)
    _write_private(directory / DEV_ROOT_CERT_FILE, root_cert.public_bytes(serialization.Encoding.PEM), 0o644)
    _write_private(directory / DEV_SIGNING_CERT_FILE, signing_cert.public_bytes(serialization.Encoding.PEM), 0o644)
    logger.info("created development signing PKI in %s", directory)


def _dev_pki_complete(directory: Path) -> bool:
    return all(
        (directory / name).is_file()
        for name in (DEV_ROOT_CERT_FILE, DEV_SIGNING_KEY_FILE, DEV_SIGNING_CERT_FILE)
    )


def ensure_dev_pki(directory: str | os.PathLike[str]) -> SigningMaterial:
    """Create a development PKI in ``directory`` on first use, then reuse it.

    Files (PEM): ``dev-root-ca.pem`` / ``dev-root-ca.key.pem`` (root CA,
    EC P-256, 10 years) and ``dev-signing.pem`` / ``dev-signing.key.pem``
    (document signing certificate, digitalSignature + nonRepudiation,
    3 years). Private keys are written with mode 0600; the directory is
    created (mode 0700) if needed. Never use this PKI in production.
    """
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not _dev_pki_complete(path):
        with _dir_lock(path):
            if not _dev_pki_complete(path):
                _generate_dev_pki(path)
    material = load_signing_material(
        path / DEV_SIGNING_KEY_FILE,
        path / DEV_SIGNING_CERT_FILE,
        [path / DEV_ROOT_CERT_FILE],
    )
    expiry = material.signing_cert["tbs_certificate"]["validity"]["not_after"].native
    if expiry <= dt.datetime.now(dt.timezone.utc):
        logger.warning(
            "development signing certificate in %s expired on %s; delete the directory to regenerate",
            path,
            expiry,
        )
    return material


def load_signing_material(
    key_path: str | os.PathLike[str],
    cert_path: str | os.PathLike[str],
    chain_paths: Sequence[str | os.PathLike[str]] = (),
    key_passphrase: str | bytes | None = None,
) -> SigningMaterial:
    """Load a signing key and certificate (PEM or DER) plus CA certificates.

    ``chain_paths`` are files with the issuing CA certificates (each may hold
    several PEM certificates). They are embedded in every signature, and the
    self-signed ones among them (or all of them, if none is self-signed)
    become the ``trust_roots``. Raises :class:`ValueError` when the material
    cannot be loaded.
    """
    if isinstance(key_passphrase, str):
        key_passphrase = key_passphrase.encode("utf-8")
    for p in (key_path, cert_path, *chain_paths):
        if not os.path.isfile(p):
            raise FileNotFoundError(f"signing material not found: {p}")
    chain = list(load_certs_from_pemder([os.fspath(p) for p in chain_paths])) if chain_paths else []
    signer = signers.SimpleSigner.load(
        key_file=os.fspath(key_path),
        cert_file=os.fspath(cert_path),
        key_passphrase=key_passphrase,
        other_certs=chain,
    )
    if signer is None:
        raise ValueError(f"could not load signing key {key_path} / certificate {cert_path}")
    signer.signed_attr_prov_spec = _PadesBaselineAttributes(signer.signing_cert)
    roots = tuple(c for c in chain if _is_self_signed(c)) or tuple(chain)
    if not roots and _is_self_signed(signer.signing_cert):
        roots = (signer.signing_cert,)
    return SigningMaterial(signer=signer, trust_roots=roots, cert_path=os.fspath(cert_path))


# --------------------------------------------------------------------------
# Signing
# --------------------------------------------------------------------------


class _FixedAttribute(CMSAttributeProvider):
    """A signed attribute whose value never changes for a key, kept as DER: loading it is lazy,
    so it is re-encoded never, not on every signature."""

    def __init__(self, der: bytes):
        self.der = der

    async def get_attribute(self, dry_run=False) -> cms.CMSAttribute:
        return cms.CMSAttribute.load(self.der)


class _PadesBaselineAttributes(SignedAttributeProviderSpec):
    """The signed attributes of a PAdES baseline B-B signature besides content-type and
    message-digest (which pyHanko always adds): the ESS signing-certificate-v2, naming the
    signing certificate by hash and issuer/serial (no signing-time: PAdES forbids it; the
    time is the signature dictionary's /M).

    pyHanko's default builds this attribute anew for every signature, and asn1crypto
    re-encodes it some two thousand times over while building it: three quarters of a
    signature's time. It depends only on the certificate, so it is built once here. (Setting
    this spec replaces pyHanko's choice of signed attributes: a signature that should carry
    more, e.g. a content time-stamp or a commitment type, must add them here.)
    """

    def __init__(self, signing_cert: asn1_x509.Certificate):
        self._signing_certificate = _FixedAttribute(
            simple_cms_attribute("signing_certificate_v2", as_signing_certificate_v2(signing_cert)).dump())

    def signed_attr_providers(self, data_digest: bytes, digest_algorithm: str):
        yield self._signing_certificate


_loops = threading.local()


def _run(coroutine):
    """Run one of pyHanko's coroutines to completion.

    One event loop per thread, kept: ``asyncio.run`` (what pyHanko's synchronous API
    calls) builds and tears down a loop per signature. Inside a running loop (an async
    server, or Playwright's sync API in the same thread) the coroutine runs in a thread
    of its own, since a loop cannot be entered twice.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        loop = getattr(_loops, "loop", None)
        if loop is None or loop.is_closed():
            loop = _loops.loop = asyncio.new_event_loop()
        return loop.run_until_complete(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _reserved_bytes(signed: bytes) -> int:
    """The size pyHanko gave the /Contents placeholder of the last signature in ``signed``."""
    embedded = PdfFileReader(io.BytesIO(signed), strict=False).embedded_signatures[-1]
    _, before, after, _ = (int(n) for n in embedded.sig_object["/ByteRange"])
    return after - before - 2  # the hex string's delimiters < and >


def sign_pdf(
    pdf_bytes: bytes,
    material: SigningMaterial,
    *,
    reason: str,
    location: str,
    field_name: str = "Signature1",
) -> bytes:
    """Return ``pdf_bytes`` with an invisible PAdES B-B signature appended.

    The signature (SHA-256, ``/SubFilter /ETSI.CAdES.detached``) is added in
    an incremental update, so the original bytes are kept unchanged.
    pyHanko errors (e.g. an unreadable PDF) propagate.
    """
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes), strict=False)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        name=material.signer_name,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    pdf_signer = signers.PdfSigner(meta, signer=material.signer)
    reserved = material._reserved[0] if material._reserved else None
    out = _run(pdf_signer.async_sign_pdf(writer, bytes_reserved=reserved)).getvalue()
    if reserved is None:
        material._reserved.append(_reserved_bytes(out))
    return out


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


def _unsigned(summary: str) -> ValidationReport:
    return ValidationReport(signed=False, intact=False, valid=False, summary=summary)


def validate_pdf(
    pdf_bytes: bytes,
    trust_roots: Iterable[asn1_x509.Certificate | x509.Certificate | bytes],
) -> ValidationReport:
    """Validate every signature in ``pdf_bytes`` against ``trust_roots``.

    ``trust_roots`` may be asn1crypto or ``cryptography`` certificates, or
    PEM/DER bytes (e.g. :attr:`SigningMaterial.trust_roots`). Nothing is
    fetched from the network. Never raises for bad input: unsigned, broken or
    non-PDF data is reported with ``signed``/``intact``/``valid`` False and
    an explanatory ``summary``.
    """
    try:
        roots = [_to_asn1(c) for c in trust_roots]
    except Exception as exc:
        return ValidationReport(
            signed=False, intact=False, valid=False, summary=f"unusable trust roots: {exc}"
        )
    if not isinstance(pdf_bytes, (bytes, bytearray, memoryview)):
        return _unsigned(f"not a PDF document (got {type(pdf_bytes).__name__})")
    data = bytes(pdf_bytes)
    if b"%PDF-" not in data[:1024]:
        return _unsigned("not a PDF document")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = list(reader.embedded_regular_signatures)
    except Exception as exc:
        logger.info("could not read PDF for signature validation: %s", exc)
        return _unsigned(f"unreadable PDF: {type(exc).__name__}: {exc}")
    if not embedded:
        return _unsigned("the document is not signed")

    all_intact = True
    all_valid = True
    modified = False
    details: list[str] = []
    signer_name: str | None = None
    signed_at: dt.datetime | None = None

    for index, emb in enumerate(embedded):
        label = f"{emb.field_name or 'signature'}"
        try:
            name = _cert_name(emb.signer_cert)
        except Exception:
            name = None
        if index == 0 or signer_name is None:
            signer_name = name or signer_name
        try:
            vc = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
            status = validate_pdf_signature(emb, signer_validation_context=vc)
        except Exception as exc:
            logger.info("signature %s could not be validated: %s", label, exc)
            all_intact = all_valid = False
            details.append(f"{label}: validation failed ({type(exc).__name__}: {exc})")
            continue

        if index == 0 and status.signer_reported_dt is not None:
            signed_at = status.signer_reported_dt
        intact = bool(status.intact and status.valid)
        trusted = bool(status.trusted)
        coverage = status.coverage
        if coverage != SignatureCoverageLevel.ENTIRE_FILE and index == len(embedded) - 1:
            modified = True
        valid = bool(intact and status.bottom_line)
        all_intact &= intact
        all_valid &= valid

        problems = []
        if not intact:
            problems.append("signed content altered or signature value invalid")
        elif not trusted:
            problems.append(
                "signer certificate not trusted"
                + (f" ({status.trust_problem_indic.name})" if status.trust_problem_indic else "")
            )
        if coverage is None or coverage < SignatureCoverageLevel.ENTIRE_REVISION:
            problems.append("signature does not cover its whole revision")
        elif coverage == SignatureCoverageLevel.ENTIRE_REVISION:
            level = status.modification_level
            problems.append(
                "document changed after signing"
                + (f" ({level.name})" if level is not None else "")
                + ("" if status.docmdp_ok else ", not permitted")
            )
        details.append(
            f"{label} by {name}: {status.summary()}" + (f" — {'; '.join(problems)}" if problems else "")
        )

    if all_valid:
        head = "signature valid" if len(embedded) == 1 else f"all {len(embedded)} signatures valid"
    elif not all_intact:
        head = "signature INVALID: the document was altered or the signature is broken"
    else:
        head = "signature intact but NOT valid"
    summary = head + ". " + " | ".join(details)
    return ValidationReport(
        signed=True,
        intact=all_intact,
        valid=all_valid,
        signer_name=signer_name,
        signed_at=signed_at,
        modified_after_signing=modified,
        summary=summary,
        details=tuple(details),
    )
