"""The SM2 electronic seal (电子签章) of an OFD package: GB/T 33190-2016 §18 (the signature parts
of the package) carrying a GB/T 38540-2020 seal signature (SES_Signature, version 4), SM2 with
the SM3 digest (GM/T 0003, GM/T 0004), as GM/T 0099 has them for OFD.

What :func:`seal_package` adds to a package::

    OFD.xml                              DocBody gains <ofd:Signatures>Doc_0/Signs/Signatures.xml
    Doc_0/Signs/Signatures.xml           the list of signatures (one, of Type "Seal")
    Doc_0/Signs/Sign_0/Signature.xml     SignedInfo: References (SM3 of every other file, base64),
                                         the StampAnnot (where the seal is drawn), the Seal's file
    Doc_0/Signs/Sign_0/Seal.esl          the electronic seal (SESeal, DER): made by the seal maker
    Doc_0/Signs/Sign_0/SignedValue.dat   SES_Signature (DER): TBS_Sign {version 4, the seal, time,
                                         dataHash = SM3(Signature.xml), propertyInfo = its path},
                                         the signer's certificate, the algorithm, the SM2 signature

Two signatures, two keys: the seal maker (制章者) signs the seal, i.e. the DER SEQUENCE of its
``esealInfo``, ``cert`` and ``signAlgID`` (the fields before ``signedValue``); the signer (签章者,
whose certificate the seal lists) signs the DER of ``TBS_Sign``. Each SM2 signature is the DER
``SEQUENCE {r, s}`` in a BIT STRING, over the SM3 digest of Z_A || message with the default user
ID ``1234567812345678``. A changed byte in any referenced file no longer matches its CheckValue;
a changed Signature.xml no longer matches dataHash; a changed seal or signature fails its SM2 check.

The X.509 certificates of the two keys are built here with asn1crypto (tongsuopy signs, but does
not build certificates): SM2 public keys (id-ecPublicKey, curve 1.2.156.10197.1.301) signed
with SM2-with-SM3 (1.2.156.10197.1.501). Pure library code: no Flask app.
"""

from __future__ import annotations

import base64
import io
import re
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from asn1crypto import core, keys, x509

from . import NS

OID_SM2_SM3 = "1.2.156.10197.1.501"  # SM2 signature with SM3 (GM/T 0006)
OID_SM3 = "1.2.156.10197.1.401"
DEFAULT_VID = "govservice"
SIGNS = "Doc_0/Signs"
SIGN_DIR = f"{SIGNS}/Sign_0"
SIGNATURE_XML = f"{SIGN_DIR}/Signature.xml"
SIGNED_VALUE = f"{SIGN_DIR}/SignedValue.dat"
SEAL_FILE = f"{SIGN_DIR}/Seal.esl"
SIGNATURES_XML = f"{SIGNS}/Signatures.xml"
MAX_UNPACKED = 64 * 1024 * 1024


# --------------------------------------------------------------------------- GB/T 38540-2020 (v4)


class SESHeader(core.Sequence):
    _fields = [("id", core.IA5String), ("version", core.Integer), ("vid", core.IA5String)]


class CertInfoList(core.SequenceOf):
    _child_spec = core.OctetString


class SESESPropertyInfo(core.Sequence):
    _fields = [
        ("type", core.Integer),  # 1: official seal (单位印章)
        ("name", core.UTF8String),
        ("cert_list_type", core.Integer),  # 1: the signers' certificates themselves
        ("cert_list", CertInfoList),
        ("create_date", core.GeneralizedTime),
        ("valid_start", core.GeneralizedTime),
        ("valid_end", core.GeneralizedTime),
    ]


class SESESPictureInfo(core.Sequence):
    _fields = [
        ("type", core.IA5String),
        ("data", core.OctetString),
        ("width", core.Integer),  # millimetres
        ("height", core.Integer),
    ]


class SESSealInfo(core.Sequence):
    _fields = [
        ("header", SESHeader),
        ("es_id", core.IA5String),
        ("property", SESESPropertyInfo),
        ("picture", SESESPictureInfo),
    ]


class SESealToSign(core.Sequence):
    """What the seal maker signs: the seal's fields before its signedValue."""

    _fields = [("eseal_info", SESSealInfo), ("cert", core.OctetString), ("sign_alg_id", core.ObjectIdentifier)]


_SEAL_SIGNED = ("eseal_info", "cert", "sign_alg_id")


class SESeal(core.Sequence):
    _fields = [
        ("eseal_info", SESSealInfo),
        ("cert", core.OctetString),
        ("sign_alg_id", core.ObjectIdentifier),
        ("signed_value", core.OctetBitString),
    ]


class TBSSign(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("eseal", SESeal),
        ("time_info", core.GeneralizedTime),
        ("data_hash", core.OctetBitString),
        ("property_info", core.IA5String),
    ]


class SESSignature(core.Sequence):
    _fields = [
        ("to_sign", TBSSign),
        ("cert", core.OctetString),
        ("signature_alg_id", core.ObjectIdentifier),
        ("signature", core.OctetBitString),
    ]


# --------------------------------------------------------------------------- SM2, SM3


def sm3(data: bytes) -> bytes:
    from tongsuopy.crypto import hashes

    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def sm2_sign(private_key, data: bytes) -> bytes:
    """DER SEQUENCE {r, s}: SM2 over SM3(Z_A || data), the default user ID (tongsuopy)."""
    from tongsuopy.crypto import hashes
    from tongsuopy.crypto.asymciphers import ec

    return private_key.sign(data, ec.ECDSA(hashes.SM3()))


def public_key_info(private_key) -> keys.PublicKeyInfo:
    from tongsuopy.crypto import serialization

    der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return keys.PublicKeyInfo.load(der)


def make_certificate(
    *,
    subject: str,
    subject_key,
    issuer: str,
    issuer_key,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    ca: bool,
    organization: str = "govservice 一网通办（开发环境）",
) -> bytes:
    """An X.509 v3 certificate (DER) of an SM2 key, signed SM2-with-SM3 by ``issuer_key``."""

    def name(common: str) -> x509.Name:
        return x509.Name.build({"country_name": "CN", "organization_name": organization, "common_name": common})

    usage = {"key_cert_sign", "crl_sign"} if ca else {"digital_signature", "non_repudiation"}
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": serial,
            "signature": {"algorithm": OID_SM2_SM3},
            "issuer": name(issuer),
            "validity": {
                "not_before": x509.Time({"utc_time": not_before.astimezone(UTC)}),
                "not_after": x509.Time({"general_time": not_after.astimezone(UTC)}),
            },
            "subject": name(subject),
            "subject_public_key_info": public_key_info(subject_key),
            "extensions": [
                {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": ca}},
                {"extn_id": "key_usage", "critical": True, "extn_value": usage},
            ],
        }
    )
    certificate = x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": {"algorithm": OID_SM2_SM3},
            "signature_value": sm2_sign(issuer_key, tbs.dump()),
        }
    )
    return certificate.dump()


def seal_picture(name: str) -> bytes:
    """The seal's image (SVG): a red circle, a star, the name along the top, 电子证照专用章 below."""
    chars = list(name)
    step = min(16.0, 220.0 / max(len(chars), 1))
    first = -step * (len(chars) - 1) / 2
    arc = "".join(
        f'<text transform="rotate({first + i * step:.1f} 50 50) translate(50 15)" text-anchor="middle" '
        f'font-size="9" fill="#c81e1e">{escape(ch)}</text>'
        for i, ch in enumerate(chars)
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" width="40mm" height="40mm">'
        '<circle cx="50" cy="50" r="46" fill="none" stroke="#c81e1e" stroke-width="3"/>'
        '<polygon points="50,35 54,46 66,46 56,53 60,64 50,57 40,64 44,53 34,46 46,46" fill="#c81e1e"/>'
        f'{arc}<text x="50" y="80" text-anchor="middle" font-size="7" fill="#c81e1e">电子证照专用章</text></svg>'
    ).encode()


def make_seal(
    *,
    name: str,
    es_id: str,
    maker_key,
    maker_cert: bytes,
    signer_certs: Sequence[bytes],
    created: datetime,
    valid_start: datetime,
    valid_end: datetime,
    vid: str = DEFAULT_VID,
) -> SESeal:
    """The electronic seal (电子印章) ``name``, listing the certificates that may sign with it,
    signed by the seal maker."""
    info = SESSealInfo(
        {
            "header": {"id": "ES", "version": 4, "vid": vid},
            "es_id": es_id,
            "property": {
                "type": 1,
                "name": name,
                "cert_list_type": 1,
                "cert_list": list(signer_certs),
                "create_date": created.astimezone(UTC),
                "valid_start": valid_start.astimezone(UTC),
                "valid_end": valid_end.astimezone(UTC),
            },
            "picture": {"type": "SVG", "data": seal_picture(name), "width": 40, "height": 40},
        }
    )
    to_sign = SESealToSign({"eseal_info": info, "cert": maker_cert, "sign_alg_id": OID_SM2_SM3})
    return SESeal(
        {
            "eseal_info": info,
            "cert": maker_cert,
            "sign_alg_id": OID_SM2_SM3,
            "signed_value": sm2_sign(maker_key, to_sign.dump()),
        }
    )


# --------------------------------------------------------------------------- the package


def _gmt(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%SZ")


def signature_xml(
    references: Sequence[tuple[str, bytes]],
    *,
    when: datetime,
    page_id: int,
    boundary: tuple[float, float, float, float],
    provider: str = "govservice",
    company: str = "govservice 一网通办",
) -> bytes:
    """Signature.xml: SignedInfo with the SM3 digest of each referenced file (path, digest)."""
    refs = "".join(
        f"<ofd:Reference FileRef={quoteattr('/' + path)}>"
        f"<ofd:CheckValue>{base64.b64encode(digest).decode('ascii')}</ofd:CheckValue></ofd:Reference>"
        for path, digest in references
    )
    box = " ".join(f"{v:.2f}" for v in boundary)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<ofd:Signature xmlns:ofd="{NS}"><ofd:SignedInfo>'
        f'<ofd:Provider ProviderName={quoteattr(provider)} Company={quoteattr(company)} Version="1.0"/>'
        f"<ofd:SignatureMethod>{OID_SM2_SM3}</ofd:SignatureMethod>"
        f"<ofd:SignatureDateTime>{_gmt(when)}</ofd:SignatureDateTime>"
        f'<ofd:References CheckMethod="{OID_SM3}">{refs}</ofd:References>'
        f'<ofd:StampAnnot ID="1" PageRef="{page_id}" Boundary="{box}"/>'
        f"<ofd:Seal><ofd:BaseLoc>/{SEAL_FILE}</ofd:BaseLoc></ofd:Seal>"
        f"</ofd:SignedInfo><ofd:SignedValue>/{SIGNED_VALUE}</ofd:SignedValue></ofd:Signature>"
    ).encode()


def _with_signatures_entry(ofd_xml: bytes) -> bytes:
    text = ofd_xml.decode("utf-8")
    if "<ofd:Signatures>" in text:
        raise ValueError("the package is already signed")
    text, found = re.subn(r"(</ofd:DocRoot>)", rf"\1<ofd:Signatures>{SIGNATURES_XML}</ofd:Signatures>", text, count=1)
    if not found:
        raise ValueError("OFD.xml has no DocRoot")
    return text.encode("utf-8")


def seal_package(
    package: bytes,
    *,
    seal: SESeal,
    signer_key,
    signer_cert: bytes,
    when: datetime,
    boundary: tuple[float, float, float, float],
    page_id: int = 1,
) -> bytes:
    """The package with the seal applied on page ``page_id`` at ``boundary`` (mm: x y w h)."""
    with zipfile.ZipFile(io.BytesIO(package)) as source:
        files = {info.filename: source.read(info) for info in source.infolist() if not info.is_dir()}
    if any(name.startswith(SIGNS + "/") for name in files):
        raise ValueError("the package is already signed")
    files["OFD.xml"] = _with_signatures_entry(files["OFD.xml"])
    references = [(name, sm3(data)) for name, data in files.items()]
    signed_info = signature_xml(references, when=when, page_id=page_id, boundary=boundary)
    tbs = TBSSign(
        {
            "version": 4,
            "eseal": seal,
            "time_info": when.astimezone(UTC).replace(microsecond=0),
            "data_hash": sm3(signed_info),
            "property_info": "/" + SIGNATURE_XML,
        }
    )
    value = SESSignature(
        {
            "to_sign": tbs,
            "cert": signer_cert,
            "signature_alg_id": OID_SM2_SM3,
            "signature": sm2_sign(signer_key, tbs.dump()),
        }
    )
    files[SIGNATURES_XML] = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<ofd:Signatures xmlns:ofd="{NS}"><ofd:MaxSignId>1</ofd:MaxSignId>'
        f'<ofd:Signature ID="1" Type="Seal" BaseLoc="/{SIGNATURE_XML}"/></ofd:Signatures>'
    ).encode()
    files[SIGNATURE_XML] = signed_info
    files[SEAL_FILE] = seal.dump()
    files[SIGNED_VALUE] = value.dump()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in files.items():
            target.writestr(name, data)
    return out.getvalue()


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class SealVerdict:
    """What :func:`verify_package` found. ``status``: ``valid``; ``unsigned`` (no seal);
    ``malformed`` (not an OFD package, or its seal parts cannot be read); ``altered`` (a file's
    digest, or Signature.xml's, does not match: changed after sealing); ``bad_signature`` (an SM2
    signature does not verify); ``untrusted`` (the seal maker is not one the caller trusts)."""

    status: str
    detail: str = ""
    seal_name: str | None = None
    doc_id: str | None = None
    signed_at: datetime | None = None


def sm2_verify(certificate: bytes, signature: bytes, data: bytes) -> bool:
    """Does the DER SM2 ``signature`` over ``data`` verify under the certificate's public key?"""
    from tongsuopy.crypto import hashes, serialization
    from tongsuopy.crypto.asymciphers import ec
    from tongsuopy.crypto.exceptions import InvalidSignature

    public = serialization.load_der_public_key(x509.Certificate.load(certificate).public_key.dump())
    try:
        public.verify(signature, data, ec.ECDSA(hashes.SM3()))
    except (InvalidSignature, ValueError):
        return False
    return True


def _xml(data: bytes):
    import xml.etree.ElementTree as ET

    return ET.fromstring(data)


def verify_package(package: bytes, trusted_makers: Sequence[bytes]) -> SealVerdict:
    """Check the electronic seal of an OFD package (made by :func:`seal_package` or any GB/T
    38540 v4 seal of this shape) against the seal makers' certificates the caller trusts."""
    import xml.etree.ElementTree as ET

    ns = {"ofd": NS}
    try:
        with zipfile.ZipFile(io.BytesIO(package)) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_UNPACKED:  # a certificate is a few hundred KB
                return SealVerdict("malformed", "the package unpacks to more than a certificate can be")
            files = {i.filename: archive.read(i) for i in archive.infolist() if not i.is_dir()}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, ValueError) as exc:  # a bad CRC too
        return SealVerdict("malformed", f"not a readable OFD package: {exc}")
    try:
        root = _xml(files["OFD.xml"])
        doc_id = root.findtext(".//ofd:DocInfo/ofd:DocID", default=None, namespaces=ns)
        listed = root.findtext(".//ofd:DocBody/ofd:Signatures", default=None, namespaces=ns)
        if not listed:
            return SealVerdict("unsigned", "the package has no signatures", doc_id=doc_id)
        entry = _xml(files[listed.lstrip("/")]).find("ofd:Signature", ns)
        signature_path = entry.get("BaseLoc").lstrip("/")
        signed_xml = files[signature_path]
        info = _xml(signed_xml).find("ofd:SignedInfo", ns)
        references = {
            ref.get("FileRef").lstrip("/"): base64.b64decode(ref.findtext("ofd:CheckValue", namespaces=ns))
            for ref in info.find("ofd:References", ns).findall("ofd:Reference", ns)
        }
        value = SESSignature.load(files[_xml(signed_xml).findtext("ofd:SignedValue", namespaces=ns).lstrip("/")])
        tbs, eseal = value["to_sign"], value["to_sign"]["eseal"]
        seal_name = eseal["eseal_info"]["property"]["name"].native
        signed_at = tbs["time_info"].native
        signer_cert, maker_cert = value["cert"].native, eseal["cert"].native
        listed_signers = [c.native for c in eseal["eseal_info"]["property"]["cert_list"]]
        checks = (
            (value["signature"].native, tbs.dump(), signer_cert),
            (
                eseal["signed_value"].native,
                SESealToSign({k: eseal[k] for k in SESealToSign._field_map}).dump(),
                maker_cert,
            ),
        )
        signer = x509.Certificate.load(signer_cert)
    except (KeyError, AttributeError, TypeError, ValueError, ET.ParseError) as exc:
        return SealVerdict("malformed", f"the seal parts cannot be read: {exc}")
    facts = dict(seal_name=seal_name, doc_id=doc_id, signed_at=signed_at)
    for path, data in files.items():
        if path.startswith(SIGNS + "/"):
            continue
        if path not in references or references[path] != sm3(data):
            return SealVerdict("altered", f"{path} does not match its digest", **facts)
    if missing := [p for p in references if p not in files]:
        return SealVerdict("altered", f"{missing[0]} is gone", **facts)
    if tbs["data_hash"].native != sm3(signed_xml) or tbs["property_info"].native != "/" + signature_path:
        return SealVerdict("altered", "Signature.xml does not match the signed digest", **facts)
    if maker_cert not in trusted_makers:
        return SealVerdict("untrusted", "the seal was not made by a trusted seal maker", **facts)
    if signer_cert not in listed_signers:
        return SealVerdict("bad_signature", "the signer is not one the seal lists", **facts)
    signer_ok = sm2_verify(maker_cert, signer["signature_value"].native, signer["tbs_certificate"].dump())
    if not signer_ok or not all(sm2_verify(cert, sig, data) for sig, data, cert in checks):
        return SealVerdict("bad_signature", "an SM2 signature does not verify", **facts)
    return SealVerdict("valid", **facts)
