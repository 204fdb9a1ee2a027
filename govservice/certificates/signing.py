"""PAdES signatures on certificate PDFs (pyHanko) and their validation.

Pure library code: no Flask app, no database; callers pass paths and values.

* :func:`ensure_dev_pki` creates (once) and then reuses a development PKI: a
  root CA and a document-signing certificate issued by it, as PEM files.
* :func:`load_signing_material` loads production key material from files.
* :func:`sign_pdf` adds an invisible PAdES signature (``/ETSI.CAdES.detached``, SHA-256) as
  an incremental update, in memory: baseline B-LTA when given a time-stamping authority (an
  RFC 3161 signature time-stamp, the validation data of the chain, here the CA's CRL, in the
  document security store, and a document time-stamp over it all, the DSS and the document
  time-stamp in one second update), else B-B.
* The development PKI also holds a time-stamping certificate (``timestamps.py`` is its TSA)
  and the root's CRL, which :func:`dev_crl` renews before it goes stale.

Signing is on every issuance's path, so what can be done once is: the key and
chain are loaded once per :class:`SigningMaterial` (once per process), the
space the signature needs in the file is estimated by pyHanko on the first
signature only (estimating means a second, dummy CMS signature each time), and
the signer's and the TSA's validated paths and revocation data are kept a minute
per thread with their validation context.
* :func:`validate_pdf` checks every signature in a PDF against the given
  trust roots and reports; it never raises for broken input.
* :func:`validate_pdf_lta` is the long-term check (ETSI EN 319 102-1 with pyHanko's AdES
  validator): at any validation time, also after the signing certificate expired, from what the
  file carries alone.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import io
import logging
import os
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import cms
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.attributes import CMSAttributeProvider, SignedAttributeProviderSpec
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

logger = logging.getLogger(__name__)


class _LocalRevocationData(logging.Filter):
    """pyHanko warns on every B-LTA signature that it may not fetch revocation data; with the
    development CA's CRL given to it, there is nothing to fetch."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "fetching is not allowed" not in record.getMessage()


logging.getLogger("pyhanko.sign.signers.pdf_signer").addFilter(_LocalRevocationData())

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
DEV_TSA_CERT_FILE = "dev-tsa.pem"  # the names timestamps.py reads
DEV_TSA_KEY_FILE = "dev-tsa.key.pem"
DEV_CRL_FILE = "dev-root-ca.crl"
DEV_CRL_DAYS = 30  # a new CRL every DEV_CRL_DAYS - DEV_CRL_RENEW_DAYS days
DEV_CRL_RENEW_DAYS = 7

DEV_ROOT_CN = "govservice 开发用根证书"
DEV_SIGNING_CN = "govservice 电子证照签章（开发）"
DEV_TSA_CN = "govservice 时间戳服务（开发）"


@dataclass(frozen=True)
class SigningMaterial:
    """A pyHanko signer plus the certificates a verifier should trust.

    ``trust_roots`` are asn1crypto certificates (the CA certificates); pass
    them to :func:`validate_pdf`.
    """

    signer: signers.SimpleSigner
    trust_roots: tuple[asn1_x509.Certificate, ...]
    cert_path: str | None = None
    #: where the CRLs embedded in B-LTA signatures come from (the development PKI's folder);
    #: None: pyHanko fetches the chain's CRLs or OCSP answers from the certificates' pointers
    dev_pki_dir: str | None = None
    # [bytes pyHanko reserved for the CMS container on the first signature, long-term or not];
    # reused after (the container's size does not depend on the document)
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


def _key_usage(*, sign: bool = False, ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=sign and not ca,  # nonRepudiation
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _issue_leaf(
    root_cert: x509.Certificate, root_key, cn: str, validity: dt.timedelta, eku: x509.ObjectIdentifier | None = None
):
    """A key and an end-entity certificate the development root issues (EC P-256)."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    key = ec.generate_private_key(ec.SECP256R1())
    root_ski = root_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(root_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski), critical=False)
    )
    if eku is not None:  # RFC 3161 2.3: a TSA's certificate names timeStamping only, critical
        builder = builder.add_extension(x509.ExtendedKeyUsage([eku]), critical=True)
    return key, builder.sign(root_key, hashes.SHA256())


def _generate_dev_pki(directory: Path, signing_validity: dt.timedelta) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name(DEV_ROOT_CN)
    root_cert = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3652))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    signing_key, signing_cert = _issue_leaf(root_cert, root_key, DEV_SIGNING_CN, signing_validity)
    # keys first, certificates last: the signing certificate's presence marks
    # a complete PKI for _dev_pki_complete().
    _write_private(directory / DEV_ROOT_KEY_FILE, _key_pem(root_key), 0o600)
    _write_private(directory / DEV_SIGNING_KEY_FILE, _key_pem(signing_key), 0o600)
    _write_private(directory / DEV_ROOT_CERT_FILE, root_cert.public_bytes(serialization.Encoding.PEM), 0o644)
    _write_private(directory / DEV_SIGNING_CERT_FILE, signing_cert.public_bytes(serialization.Encoding.PEM), 0o644)
    logger.info("created development signing PKI in %s", directory)


def _dev_root(directory: Path):
    root_cert = x509.load_pem_x509_certificate((directory / DEV_ROOT_CERT_FILE).read_bytes())
    root_key = serialization.load_pem_private_key((directory / DEV_ROOT_KEY_FILE).read_bytes(), password=None)
    return root_cert, root_key


def _ensure_dev_tsa(directory: Path) -> None:
    """The development TSA's certificate (10 years, longer than any signing certificate: its
    time-stamps are what keeps a signature valid after the signer's certificate expired)."""
    if (directory / DEV_TSA_CERT_FILE).is_file() or not (directory / DEV_ROOT_KEY_FILE).is_file():
        return
    key, cert = _issue_leaf(
        *_dev_root(directory), DEV_TSA_CN, dt.timedelta(days=3650), eku=x509.oid.ExtendedKeyUsageOID.TIME_STAMPING
    )
    _write_private(directory / DEV_TSA_KEY_FILE, _key_pem(key), 0o600)
    _write_private(directory / DEV_TSA_CERT_FILE, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    logger.info("created the development TSA certificate in %s", directory)


def _crl_is_fresh(path: Path) -> bool:
    try:
        crl = x509.load_der_x509_crl(path.read_bytes())
    except (FileNotFoundError, ValueError):
        return False
    renew_at = crl.next_update_utc - dt.timedelta(days=DEV_CRL_RENEW_DAYS)
    return dt.datetime.now(dt.UTC) < renew_at


def dev_crl(directory: str | os.PathLike[str]):
    """The development root's CRL (asn1crypto), issued anew when it is within a week of stale.

    It lists nothing (the development CA revokes nothing); what matters to a long-term
    signature is that it was current when the signature was made, and is in the file."""
    from asn1crypto import crl as asn1_crl

    path = Path(directory)
    target = path / DEV_CRL_FILE
    if not _crl_is_fresh(target):
        with _dir_lock(path):
            if not _crl_is_fresh(target):
                root_cert, root_key = _dev_root(path)
                now = dt.datetime.now(dt.UTC).replace(microsecond=0)
                root_ski = root_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
                crl = (
                    x509.CertificateRevocationListBuilder()
                    .issuer_name(root_cert.subject)
                    .last_update(now - dt.timedelta(minutes=5))
                    .next_update(now + dt.timedelta(days=DEV_CRL_DAYS))
                    .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
                    .add_extension(
                        x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski), critical=False
                    )
                    .sign(root_key, hashes.SHA256())
                )
                _write_private(target, crl.public_bytes(serialization.Encoding.DER), 0o644)
    return asn1_crl.CertificateList.load(target.read_bytes())


def _dev_pki_complete(directory: Path) -> bool:
    return all(
        (directory / name).is_file() for name in (DEV_ROOT_CERT_FILE, DEV_SIGNING_KEY_FILE, DEV_SIGNING_CERT_FILE)
    )


def ensure_dev_pki_files(
    directory: str | os.PathLike[str], *, signing_validity: dt.timedelta = dt.timedelta(days=3 * 365)
) -> Path:
    """The development PKI's files (see :func:`ensure_dev_pki`), created if missing."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not _dev_pki_complete(path) or not (path / DEV_TSA_CERT_FILE).is_file():
        with _dir_lock(path):
            if not _dev_pki_complete(path):
                _generate_dev_pki(path, signing_validity)
            _ensure_dev_tsa(path)
    return path


def ensure_dev_pki(
    directory: str | os.PathLike[str], *, signing_validity: dt.timedelta = dt.timedelta(days=3 * 365)
) -> SigningMaterial:
    """Create a development PKI in ``directory`` on first use, then reuse it.

    Files (PEM): ``dev-root-ca.pem`` / ``dev-root-ca.key.pem`` (root CA,
    EC P-256, 10 years), ``dev-signing.pem`` / ``dev-signing.key.pem``
    (document signing certificate, digitalSignature + nonRepudiation,
    ``signing_validity``: 3 years), ``dev-tsa.pem`` / ``dev-tsa.key.pem`` (the
    development TSA, 10 years) and ``dev-root-ca.crl`` (DER, see :func:`dev_crl`).
    Private keys are written with mode 0600; the directory is created (mode 0700)
    if needed. Never use this PKI in production.
    """
    path = ensure_dev_pki_files(directory, signing_validity=signing_validity)
    material = load_signing_material(
        path / DEV_SIGNING_KEY_FILE,
        path / DEV_SIGNING_CERT_FILE,
        [path / DEV_ROOT_CERT_FILE],
    )
    material = dataclasses.replace(material, dev_pki_dir=os.fspath(path))
    expiry = material.signing_cert["tbs_certificate"]["validity"]["not_after"].native
    if expiry <= dt.datetime.now(dt.UTC):
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
            simple_cms_attribute("signing_certificate_v2", as_signing_certificate_v2(signing_cert)).dump()
        )

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


def _reserved_bytes(signed: bytes, long_term: bool) -> int:
    """The size pyHanko gave the /Contents placeholder of the (regular) signature in ``signed``."""
    reader = PdfFileReader(io.BytesIO(signed), strict=False)
    embedded = reader.embedded_regular_signatures[-1] if long_term else reader.embedded_signatures[-1]
    _, before, after, _ = (int(n) for n in embedded.sig_object["/ByteRange"])
    return after - before - 2  # the hex string's delimiters < and >


_contexts = threading.local()
CONTEXT_SECONDS = 60


@dataclass
class _LongTermContext:
    """What a B-LTA signature embeds about the signer's and the TSA's chains, for one signer and
    TSA: the validation context (the development CA's CRL, or, for production material, whatever
    the certificates' CRL and OCSP pointers give) and, once the first signature validated them
    against it, the validated paths and revocation data (pyHanko's pre-signing validation)."""

    material: SigningMaterial
    timestamper: object
    made: float
    context: ValidationContext
    presign: object = None  # pyHanko's PreSignValidationStatus, after the first signature


def _long_term_context(material: SigningMaterial, timestamper) -> _LongTermContext:
    """The :class:`_LongTermContext` of this signer and TSA, kept CONTEXT_SECONDS per thread.

    Making a context turns each trust root into a trust anchor (asn1crypto hashes every name,
    slowly), and validating the signer's and the TSA's paths against it (signatures of the
    certificates and the CRL checked, a time-stamp asked for) costs a tenth of a signature each
    time; what they establish (the chains, and that the CRL is current) holds for longer than
    CONTEXT_SECONDS, after which both are made anew."""
    kept, now = getattr(_contexts, "kept", None), time.monotonic()
    if (
        kept is not None
        and kept.material is material
        and kept.timestamper is timestamper
        and now - kept.made < CONTEXT_SECONDS
    ):
        return kept
    roots = [*material.trust_roots, *getattr(timestamper, "trust_roots", ())]
    if material.dev_pki_dir is not None:
        context = ValidationContext(trust_roots=roots, crls=[dev_crl(material.dev_pki_dir)], allow_fetching=False)
    else:
        context = ValidationContext(trust_roots=roots, allow_fetching=True)
    _contexts.kept = kept = _LongTermContext(material, timestamper, now, context)
    return kept


def sign_pdf(
    pdf_bytes: bytes,
    material: SigningMaterial,
    *,
    reason: str,
    location: str,
    field_name: str = "Signature1",
    timestamper=None,
) -> bytes:
    """Return ``pdf_bytes`` with an invisible PAdES signature appended.

    The signature (SHA-256, ``/SubFilter /ETSI.CAdES.detached``) is added in
    an incremental update, so the original bytes are kept unchanged. With a
    ``timestamper`` (a pyHanko ``TimeStamper``, see ``timestamps.py``) it is
    PAdES B-LTA: a signature time-stamp, the chain's certificates and CRLs in
    the document security store, and a document time-stamp; a TSA that gives
    no token raises ``timestamps.TimestampUnavailable``. Other pyHanko errors
    (e.g. an unreadable PDF) propagate.
    """
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError

    from .tsa_errors import TimestampUnavailable

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes), strict=False)
    long_term = timestamper is not None
    kept = _long_term_context(material, timestamper) if long_term else None
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        name=material.signer_name,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        embed_validation_info=long_term,
        use_pades_lta=long_term,
        validation_context=kept.context if long_term else None,
    )
    pdf_signer = signers.PdfSigner(meta, signer=material.signer, timestamper=timestamper)
    reserved = material._reserved[0] if material._reserved and long_term == material._reserved[1] else None
    try:
        if long_term:
            out = _run(_sign_long_term(pdf_signer, writer, kept, reserved)).getvalue()
        else:
            out = _run(pdf_signer.async_sign_pdf(writer, bytes_reserved=reserved)).getvalue()
    except TimestampRequestError as exc:
        raise TimestampUnavailable(f"the time-stamping authority gave no token: {exc}") from exc
    if reserved is None:
        material._reserved[:] = [_reserved_bytes(out, long_term), long_term]
    return out


async def _sign_long_term(pdf_signer: signers.PdfSigner, writer: IncrementalPdfFileWriter, kept, reserved):
    """PAdES B-LTA in two incremental updates: the signature (with its RFC 3161 signature
    time-stamp), then the document security store (the signer's and the TSA's certificates and
    CRLs, and the signature's VRI entry) together with a document time-stamp over it all.

    pyHanko's ``PdfSigner.sign_pdf`` does the same steps through its interrupted-signing API
    (``init_signing_session`` ... ``perform_signature``), as here, but then validates the
    signer's and the TSA's paths again for every signature, and writes the TSA's validation data
    in a third update after the document time-stamp (re-reading the file once more for it).
    Here the paths validated for the first signature are reused while their validation context
    is (``_long_term_context``), and the TSA's data, the same CA's as the signature time-stamp's
    and already among the paths, goes into the DSS that the document time-stamp covers."""
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
    from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    # a document with a form may hold an earlier document time-stamp, whose TSA's paths pyHanko
    # adds to the validation: that document's own, so not kept (a rendered certificate has none)
    unsigned = "/AcroForm" not in writer.root
    session = pdf_signer.init_signing_session(writer)
    presign = kept.presign if unsigned else None
    if presign is None:
        presign = await session.perform_presign_validation(writer)
        if unsigned:
            kept.presign = presign
    # the paths' list is pyHanko's to extend: each signature gets its own copy
    presign = dataclasses.replace(presign, validation_paths=list(presign.validation_paths))
    if reserved is None:
        reserved = await session.estimate_signature_container_size(presign, tight=False)
    tbs = session.prepare_tbs_document(validation_info=presign, bytes_reserved=reserved)
    digest, output = tbs.digest_tbs_document()
    signed = await tbs.perform_signature(
        document_digest=digest.document_digest,
        pdf_cms_signed_attrs=PdfCMSSignedAttributes(
            signing_time=session.system_time,
            adobe_revinfo_attr=presign.adobe_revinfo_attr,
            cades_signed_attrs=pdf_signer.signature_meta.cades_signed_attr_spec,
        ),
    )
    update = IncrementalPdfFileWriter(output, strict=False)
    DocumentSecurityStore.supply_dss_in_writer(
        update,
        signed.sig_contents,
        paths=presign.validation_paths,
        validation_context=kept.context,
        ocsps=presign.ocsps_to_embed,
        crls=presign.crls_to_embed,
    )
    await PdfTimeStamper(pdf_signer.default_timestamper).async_timestamp_pdf(update, "sha256", in_place=True)
    return output


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
        return ValidationReport(signed=False, intact=False, valid=False, summary=f"unusable trust roots: {exc}")
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
        # a B-LTA signature is followed by its validation data and document time-stamp: updates
        # that add nothing a reader sees (pyHanko's LTA_UPDATES), not a modification
        lta_only = status.modification_level == ModificationLevel.LTA_UPDATES
        if coverage != SignatureCoverageLevel.ENTIRE_FILE and index == len(embedded) - 1 and not lta_only:
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
        elif coverage == SignatureCoverageLevel.ENTIRE_REVISION and not lta_only:
            level = status.modification_level
            problems.append(
                "document changed after signing"
                + (f" ({level.name})" if level is not None else "")
                + ("" if status.docmdp_ok else ", not permitted")
            )
        details.append(f"{label} by {name}: {status.summary()}" + (f" — {'; '.join(problems)}" if problems else ""))

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


@dataclass(frozen=True)
class LongTermReport:
    """Outcome of :func:`validate_pdf_lta`: ``valid`` when the AdES verdict is PASSED.

    ``indication`` is the ETSI EN 319 102-1 sub-indication (``OK``, ``NO_POE``,
    ``HASH_FAILURE``, ``REVOKED_NO_POE``, ...); ``signed_at`` the time-stamped signing time."""

    valid: bool
    indication: str
    signed_at: dt.datetime | None = None
    summary: str = ""


def validate_pdf_lta(
    pdf_bytes: bytes,
    trust_roots: Iterable[asn1_x509.Certificate | x509.Certificate | bytes],
    at: dt.datetime | None = None,
) -> LongTermReport:
    """Validate the first signature as a PAdES B-LTA signature at time ``at`` (default now).

    pyHanko's AdES validator: the chain of document time-stamps proves the signature, its
    time-stamp and the embedded CRLs existed when stamped, so the signature validates long
    after the signing certificate expired; revocation data is required, and taken only from
    the file (nothing is fetched). Never raises for bad input.
    """
    from pyhanko.sign.validation.ades import ades_lta_validation
    from pyhanko.sign.validation.policy_decl import (
        PdfSignatureValidationSpec,
        RevinfoOnlineFetchingRule,
        RevocationInfoGatheringSpec,
        SignatureValidationSpec,
    )
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
    from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
    from pyhanko_certvalidator.registry import SimpleTrustManager

    try:
        roots = [_to_asn1(c) for c in trust_roots]
        reader = PdfFileReader(io.BytesIO(bytes(pdf_bytes)), strict=False)
        embedded = reader.embedded_regular_signatures
    except Exception as exc:
        return LongTermReport(False, "UNREADABLE", summary=f"{type(exc).__name__}: {exc}")
    if not embedded:
        return LongTermReport(False, "UNSIGNED", summary="the document is not signed")
    at = at or dt.datetime.now(dt.UTC)
    spec = PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build(trust_roots=roots),
                revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO),
            ),
            revinfo_gathering_policy=RevocationInfoGatheringSpec(RevinfoOnlineFetchingRule.LOCAL_ONLY),
        )
    )
    timing = ValidationTimingInfo(validation_time=at, best_signature_time=at, point_in_time_validation=True)
    try:
        result = _run(ades_lta_validation(embedded[0], spec, timing_info=timing))
    except Exception as exc:
        logger.info("long-term validation failed: %s", exc)
        return LongTermReport(False, "ERROR", summary=f"{type(exc).__name__}: {exc}")
    indication = getattr(result.ades_subindic, "name", str(result.ades_subindic))
    status = result.api_status
    signed_at = getattr(getattr(status, "timestamp_validity", None), "timestamp", None)
    return LongTermReport(
        valid=indication == "OK",
        indication=indication,
        signed_at=signed_at,
        summary=f"AdES {result.ades_subindic}" + (f": {result.failure_msg}" if result.failure_msg else ""),
    )
