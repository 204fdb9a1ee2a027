"""电子签章: the OFD certificate carries its issuing department's SM2 electronic seal (GB/T 33190
§18 signature parts, a GB/T 38540 SES_Signature). Checked here independently of the code that
made it: the DER read generically (asn1crypto's untyped parser, not the platform's schema), SM3
and SM2 by gmssl (not Tongsuo, which signed), the seal maker's certificate pinned; and a package
with one changed byte in a page, in the signed Signature.xml or in the signature value is refused."""

from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import ofdkit
from asn1crypto import core, x509
from gmssl import func, sm2, sm3

from govservice.certificates import documents

from ..factories import issue

NS = {"ofd": "http://www.ofdspec.org/2016"}


def _sm3(data: bytes) -> bytes:
    return bytes.fromhex(sm3.sm3_hash(func.bytes_to_list(data)))


def _gmssl_verifies(certificate_der: bytes, signature_der: bytes, data: bytes) -> bool:
    point = x509.Certificate.load(certificate_der).public_key["public_key"].native  # 04 || x || y
    assert point[0] == 4 and len(point) == 65
    verifier = sm2.CryptSM2(private_key="", public_key=point[1:].hex(), asn1=True)
    try:
        if verifier.verify_with_sm3(signature_der.hex(), data):
            return True
    except TypeError:
        pass
    # gmssl's Jacobian point arithmetic fails for some keys and points (py-gmssl issues 71 and 78,
    # open), by raising or, now and then in this suite, by refusing a good signature: the same
    # check then in affine coordinates, on gmssl's curve and its SM3 of Z || M. A bad signature
    # fails both.
    return _affine_verify(verifier, point[1:], signature_der, data)


def _affine_verify(verifier, public: bytes, signature_der: bytes, data: bytes) -> bool:
    from asn1crypto.algos import DSASignature

    table = sm2.default_ecc_table
    p, n, a = int(table["p"], 16), int(table["n"], 16), int(table["a"], 16)
    g = (int(table["g"][:64], 16), int(table["g"][64:], 16))
    q = (int.from_bytes(public[:32], "big"), int.from_bytes(public[32:], "big"))

    def add(u, v):
        if u is None or v is None:
            return u or v
        if u[0] == v[0] and (u[1] + v[1]) % p == 0:
            return None
        slope = (3 * u[0] * u[0] + a) * pow(2 * u[1], -1, p) if u == v else (v[1] - u[1]) * pow(v[0] - u[0], -1, p)
        x = (slope * slope - u[0] - v[0]) % p
        return x, (slope * (u[0] - x) - u[1]) % p

    def times(k, point):
        result = None
        while k:
            if k & 1:
                result = add(result, point)
            point, k = add(point, point), k >> 1
        return result

    rs = DSASignature.load(signature_der).native
    r, s_ = rs["r"], rs["s"]
    t = (r + s_) % n
    if not (0 < r < n and 0 < s_ < n) or t == 0:
        return False
    e = int(verifier._sm3_z(data), 16)  # SM3(Z_A || M), Z_A with the default user ID, as gmssl makes it
    x1 = add(times(s_, g), times(t, q))[0]
    return (e + x1) % n == r


def _der_sequence(*parts: bytes) -> bytes:
    body = b"".join(parts)
    n = len(body)
    length = (
        bytes([n])
        if n < 128
        else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
    )
    return b"\x30" + length + body


def verify_seal(package: bytes, maker_cert: bytes) -> tuple[list[str], dict]:
    """What an independent verifier finds wrong with the package's seal (empty: it verifies), and
    what the seal says."""
    problems = []
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    signatures_path = ET.fromstring(files["OFD.xml"]).find(".//ofd:DocBody/ofd:Signatures", NS).text
    listed = ET.fromstring(files[signatures_path.lstrip("/")])
    [entry] = listed.findall("ofd:Signature", NS)
    assert entry.get("Type") == "Seal"
    signature_path = entry.get("BaseLoc").lstrip("/")
    signed_xml = files[signature_path]
    root = ET.fromstring(signed_xml)
    info = root.find("ofd:SignedInfo", NS)
    assert info.find("ofd:SignatureMethod", NS).text == "1.2.156.10197.1.501"  # SM2 with SM3
    refs = info.find("ofd:References", NS)
    assert refs.get("CheckMethod") == "1.2.156.10197.1.401"  # SM3
    covered = set()
    for ref in refs.findall("ofd:Reference", NS):
        path = ref.get("FileRef").lstrip("/")
        covered.add(path)
        if path not in files or base64.b64decode(ref.find("ofd:CheckValue", NS).text) != _sm3(files[path]):
            problems.append(f"digest of {path}")
    stamp = info.find("ofd:StampAnnot", NS)

    value = core.load(files[root.find("ofd:SignedValue", NS).text.lstrip("/")])  # SES_Signature
    tbs, signer_cert, algorithm, signature = value[0], value[1].native, value[2].dotted, value[3]
    assert algorithm == "1.2.156.10197.1.501"
    version, eseal, _time, data_hash, prop = tbs[0].native, tbs[1], tbs[2], tbs[3], tbs[4].native
    assert version == 4 and prop == "/" + signature_path
    if bytes(data_hash.contents[1:]) != _sm3(signed_xml):  # BIT STRING: unused-bits byte, then the digest
        problems.append("dataHash of Signature.xml")
    if not _gmssl_verifies(signer_cert, bytes(signature.contents[1:]), tbs.dump()):
        problems.append("SM2 signature of the signer")

    seal_info, seal_maker_cert, seal_value = eseal[0], eseal[1].native, eseal[3]
    header, properties, picture = seal_info[0], seal_info[2], seal_info[3]
    assert (header[0].native, header[1].native) == ("ES", 4)
    if seal_maker_cert != maker_cert:
        problems.append("seal maker not the pinned one")
    if not _gmssl_verifies(
        maker_cert, bytes(seal_value.contents[1:]), _der_sequence(eseal[0].dump(), eseal[1].dump(), eseal[2].dump())
    ):
        problems.append("SM2 signature of the seal maker")
    if signer_cert not in [properties[3][i].native for i in range(len(properties[3]))]:
        problems.append("signer not listed in the seal")
    signer = x509.Certificate.load(signer_cert)
    if not _gmssl_verifies(maker_cert, signer["signature_value"].native, signer["tbs_certificate"].dump()):
        problems.append("signer certificate not issued by the seal maker")
    facts = {
        "name": properties[1].native,
        "picture": picture[0].native,
        "stamp": (stamp.get("PageRef"), stamp.get("Boundary")),
        "covered": covered,
        "files": set(files),
    }
    return problems, facts


def _maker_cert(app) -> bytes:
    """The seal maker's certificate as the platform publishes it (a verifier pins it)."""
    answer = app.test_client().get("/.well-known/ofd-seal-ca.cer")
    assert answer.status_code == 200 and answer.mimetype == "application/pkix-cert"
    assert answer.data == (Path(app.config["INSTANCE_DIR"]) / "keys" / "ofd_seal" / "maker.cer").read_bytes()
    return answer.data


def _rewritten(package: bytes, name: str, change) -> bytes:
    """The package with one file's bytes changed and the ZIP rebuilt (its checksums right again)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info.filename, change(data) if info.filename == name else data)
    return out.getvalue()


def test_the_ofd_carries_the_issuers_sm2_seal_that_an_independent_verifier_accepts(app, ctx, clock):
    certificate = issue("yyzz")
    package = documents.ofd_bytes(certificate)
    with ofdkit.open(package) as document:  # still an OFD any reader opens, the seal drawn on the page
        assert certificate.issuer.name in document.text()

    problems, facts = verify_seal(package, _maker_cert(app))
    assert problems == []
    assert facts["name"] == f"北京市朝阳区{certificate.issuer.name}电子证照专用章" and facts["picture"] == "SVG"
    page_ref, boundary = facts["stamp"]
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        content = archive.read("Doc_0/Pages/Page_0/Content.xml").decode()
    # the seal is stamped where the page draws it (the red ring of the landscape 营业执照)
    assert page_ref == "1" and f'Boundary="{boundary}" LineWidth="0.8"><ofd:StrokeColor Value="200 30 30"/>' in content
    # every file but the signature's own parts is covered by a digest
    signature_parts = {f for f in facts["files"] if f.startswith("Doc_0/Signs/")}
    assert facts["covered"] == facts["files"] - signature_parts
    assert {"OFD.xml", "Doc_0/Pages/Page_0/Content.xml", "Doc_0/Res/font_2.ttf"} <= facts["covered"]


def test_a_changed_byte_in_a_sealed_ofd_is_detected(app, ctx, clock):
    package = documents.ofd_bytes(issue("spjyxkz"))
    maker = _maker_cert(app)
    assert verify_seal(package, maker)[0] == []

    # a page's text: the licence number changed, the ZIP rebuilt so that a reader opens it
    def one_digit(data: bytes) -> bytes:
        at = re.search(rb"JY\d", data).end() - 1
        return data[:at] + (b"8" if data[at : at + 1] != b"8" else b"9") + data[at + 1 :]

    altered = _rewritten(package, "Doc_0/Pages/Page_0/Content.xml", one_digit)
    with ofdkit.open(altered) as document:
        assert document.pages[0].text()  # the parser alone cannot tell
    assert verify_seal(altered, maker)[0] == ["digest of Doc_0/Pages/Page_0/Content.xml"]

    # the signed Signature.xml: the seal moved elsewhere on the page
    moved = _rewritten(
        package, "Doc_0/Signs/Sign_0/Signature.xml", lambda data: data.replace(b'Boundary="149.00', b'Boundary="19.00')
    )
    assert verify_seal(moved, maker)[0] == ["dataHash of Signature.xml"]

    # the signature value itself: its last byte
    forged = _rewritten(
        package, "Doc_0/Signs/Sign_0/SignedValue.dat", lambda data: data[:-1] + bytes([data[-1] ^ 0x01])
    )
    assert "SM2 signature of the signer" in verify_seal(forged, maker)[0]

    # a seal made by another maker is not this platform's
    assert "seal maker not the pinned one" in verify_seal(package, maker[:-1] + bytes([maker[-1] ^ 1]))[0]


def test_the_verification_page_checks_an_uploaded_ofds_seal_and_the_certificates_status(app, ctx, clock, client):
    from govservice.certificates import lifecycle
    from govservice.certificates.models import Verification
    from govservice.core.extensions import db

    from ..factories import person as staff

    certificate = issue("spjyxkz")
    package = documents.ofd_bytes(certificate)

    def check(data: bytes, name: str = "食品经营许可证.ofd"):
        answer = client.post("/verify/ofd", data={"ofd": (io.BytesIO(data), name)}, content_type="multipart/form-data")
        return answer.status_code, answer.get_data(as_text=True)

    assert "OFD电子证照核验" in client.get("/verify/ofd").get_data(as_text=True)
    code, page = check(package)
    assert code == 200 and "核验结果：有效" in page
    assert "电子签章有效：北京市朝阳区市场监督管理局电子证照专用章" in page and certificate.identifier in page

    altered = _rewritten(package, "Doc_0/Pages/Page_0/Content.xml", lambda data: data.replace(b"JY2", b"JY3", 1))
    code, page = check(altered)
    assert "核验结果：无效（伪造或被篡改）" in page and "该文件在签章后被修改过" in page
    assert certificate.identifier not in page  # nothing of a forgery is shown as fact
    start = package.index(b"Doc_0/Pages/Page_0/Content.xml") + 40  # a raw byte of the page's compressed data
    flipped = package[:start] + bytes([package[start] ^ 0xFF]) + package[start + 1 :]
    assert "该文件不是可读取的OFD电子证照，或其电子签章数据已损坏。" in check(flipped)[1]
    assert "没有电子签章" in check(_unsigned(package))[1]
    code, page = check(b"")
    assert code == 422 and "请选择要核验的OFD文件。" in page

    lifecycle.revoke(certificate.id, staff("刘洋"), "以欺骗手段取得许可")
    code, page = check(package)
    assert "电子签章有效" in page and "核验结果：已吊销" in page and "不再具有效力" in page
    uses = db.session.execute(
        db.select(Verification.result).where(Verification.verifier == "OFD文件核验").order_by(Verification.id)
    ).scalars()
    assert list(uses)[-1] == "revoked"


def _unsigned(package: bytes) -> bytes:
    """The package without its seal parts and without the entry that names them."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename.startswith("Doc_0/Signs/"):
                continue
            data = source.read(info)
            if info.filename == "OFD.xml":
                data = re.sub(rb"<ofd:Signatures>[^<]*</ofd:Signatures>", b"", data)
            target.writestr(info.filename, data)
    return out.getvalue()


def test_checking_an_ofd_signed_out_stores_no_session(app, ctx, clock):
    client = app.test_client()
    package = documents.ofd_bytes(issue("spjyxkz"))
    answer = client.post(
        "/verify/ofd", data={"ofd": (io.BytesIO(package), "x.ofd")}, content_type="multipart/form-data"
    )
    assert answer.status_code == 200 and "核验结果：有效" in answer.get_data(as_text=True)
    assert client.get_cookie(app.config["SESSION_COOKIE_NAME"]) is None
