"""互认: a second instance of the platform, with its own database, keys and address, issues a
certificate; this platform, whose trust list names it, accepts that certificate as a material
(signature under the other's published keys, the other's status list) and refuses it once the
other revokes it, altered, held by someone else, or from an issuer not on the list."""

from __future__ import annotations

import io
import uuid

import pytest
from werkzeug.serving import make_server

from govservice import create_app
from govservice.audit.models import AuditEntry
from govservice.cases import services as cases
from govservice.cases.models import Case
from govservice.cases.uploads import Upload, UploadRefused
from govservice.certificates import documents, lifecycle, services
from govservice.certificates.tokens import TokenKeyStore
from govservice.core.extensions import db
from govservice.credentials import Licence, w3c_vc

from ..factories import DATA, issue, person
from ..factories import person as staff
from ..ports import free_port


@pytest.fixture(scope="module")
def other_platform(tmp_path_factory, idp):
    """The other issuing platform, served over HTTP from a thread: two certificates of 张三's, as
    the W3C VCs its wallet exports, and a way to revoke one there."""
    import threading

    folder = tmp_path_factory.mktemp("other-platform")
    holder = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    other = create_app(
        {
            "TESTING": True,
            "INSTANCE_DIR": str(folder),
            "BLOB_DIR": str(folder / "blobs"),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/other.sqlite",
            "REDIS_URL": "",
            "DEV_IDP_URL": idp,
            "PUBLIC_URL": url,
            "SESSION_KEY_PREFIX": f"other-{uuid.uuid4().hex}:",
            "RATELIMIT_ENABLED": False,
            "REGION_CODE": "310101",
            "REGISTRY_DEV_GENERATED": 0,
        }
    )
    holder["app"] = other
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with other.app_context():
        # its schema from the models, not our migrations (6 s on SQLite): what matters of the other
        # platform here is what it serves over HTTP, its key document and its status lists
        db.create_all()
        from govservice.app import demo

        demo.load(certificates=False)
        kept, revoked, later = (issue("yyzz") for _ in range(3))
        credentials = {k: documents.w3c_vc(c) for k, c in (("kept", kept), ("revoked", revoked), ("later", later))}
        ids = {"revoked": revoked.id, "later": later.id}

        done = set()

        def revoke(which="revoked"):  # once: the tests that need it revoked may run in any order
            if which not in done:
                with other.app_context():
                    lifecycle.revoke(ids[which], staff("刘洋"), "以欺骗手段取得登记")
                done.add(which)

        db.session.remove()
    yield {"url": url, "revoke": revoke, **credentials}
    server.shutdown()


@pytest.fixture
def app_config(other_platform, tmp_path):
    trust_list = tmp_path / "trust.toml"
    trust_list.write_text(
        f'''
[issuers.other]
title = "另一平台（测试）"
issuer = "{other_platform["url"]}"

[issuers.gone]
title = "无法访问的平台"
issuer = "http://127.0.0.1:{free_port()}"
''',
        encoding="utf-8",
    )
    return {"TRUST_LIST_FILE": str(trust_list), "TRUST_CACHE_SECONDS": 0, "TRUST_TIMEOUT": 2}


def _foreign_vc(tmp_path, clock, base_url: str) -> str:
    """张三's 营业执照 as a platform at ``base_url`` (with keys of its own) would export it."""
    return w3c_vc(
        TokenKeyStore(tmp_path / "keys"),
        Licence(
            base_url=base_url,
            type_code="yyzz",
            type_name="营业执照",
            identifier="X",
            issuer_name="某市市场监督管理局",
            fields=DATA["yyzz"],
            index=1,
            issued_at=clock.now(),
            expires_at=None,
        ),
        holder="张三",
    )


def _check(credential: str, applicant: str = "张三"):
    [check] = services.check_held_materials([credential], person(applicant), case_number="TEST")
    return check


def test_a_certificate_of_a_trusted_platform_replaces_a_material_until_its_issuer_revokes_it(
    ctx, clock, other_platform
):
    check = _check(other_platform["kept"])
    assert check.ok and check.status == "valid", check
    assert services.refusal_message([check]) is None
    assert _check(other_platform["revoked"]).ok

    other_platform["revoke"]()  # at the other platform: only its status list tells us
    refused = _check(other_platform["revoked"])
    assert not refused.ok and "已吊销" in refused.reason and "另一平台（测试）" in refused.reason
    assert _check(other_platform["kept"]).ok

    audited = (
        db.session.execute(
            db.select(AuditEntry.detail)
            .where(AuditEntry.action == "certificate.material.foreign")
            .order_by(AuditEntry.id)
        )
        .scalars()
        .all()
    )
    assert [d["result"] for d in audited] == ["valid", "valid", "refused", "valid"]


def test_an_altered_foreign_or_unknown_certificate_is_refused_with_the_reason(ctx, clock, other_platform, tmp_path):
    credential = other_platform["kept"]
    head, payload, signature = credential.split(".")
    flipped = f"{head}.{payload}.{signature[:5]}{'A' if signature[5] != 'A' else 'B'}{signature[6:]}"
    assert "签名无效" in _check(flipped).reason

    assert "不属于申请人" in _check(credential, "李娜").reason

    # a platform not on the trust list (its own keys, its own address)
    untrusted = _foreign_vc(tmp_path, clock, "https://unknown.example.gov.cn")
    refused = _check(untrusted)
    assert not refused.ok and "不在互认信任名单中" in refused.reason and "unknown.example.gov.cn" in refused.reason

    # a listed platform that cannot be reached: refused for now, with the reason, nothing lost
    gone = next(i for i in ctx.extensions["trust_list"].values() if i.name == "gone")
    unreachable = _foreign_vc(tmp_path, clock, gone.issuer)
    assert "暂时无法获取" in _check(unreachable).reason
    assert "不是可核验的电子证照凭证" in _check("eyJnot.a.credential").reason


# --------------------------------------------------------------------------- presented at intake


@pytest.fixture
def held_licence(app):
    """张三's own 营业执照 here: 注销登记 names the licence it cancels (its number is checked at
    submission, `[licence]` in the item), whatever material is presented for it."""
    from ..cases.test_views import ZXDJ

    with app.app_context():
        issue("yyzz", credit_code=ZXDJ["credit_code"])


def _upload(credential: str, name: str = "营业执照.vc.jwt"):
    return io.BytesIO(credential.encode("ascii")), name


def test_the_applicant_presents_a_foreign_licence_online_and_the_window_accepts_it(
    app, client, login_as, clock, other_platform, held_licence
):
    from ..cases.test_views import ZXDJ, _apply, _case

    login_as(client, "张三")
    page = client.get("/apply/scjgj-gtgsh-zxdj").get_data(as_text=True)
    assert "持有其他地区或平台签发的营业执照电子证照的，可在此上传其导出的可验证凭证文件（.jwt）" in page
    answer = _apply(client, "scjgj-gtgsh-zxdj", ZXDJ, material_licence=_upload(other_platform["kept"]))
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    with app.app_context():
        case = db.session.get(Case, _case(app).id)
        [attachment] = [a for a in case.attachments if a.material_code == "licence"]
        assert attachment.content_type == "application/vc+jwt"
        assert attachment.filename.startswith("互认电子证照-营业执照-")
        accepted = cases.accept(case.id, staff("赵敏"), case.version)  # checked again at acceptance
        assert accepted.state != "submitted"
        results = db.session.execute(
            db.select(AuditEntry.detail)
            .where(AuditEntry.action == "certificate.material.foreign")
            .order_by(AuditEntry.id)
        ).scalars()
        assert [d["result"] for d in results] == ["valid", "valid"]  # at intake, then at acceptance


@pytest.mark.parametrize("which", ["revoked", "altered", "untrusted"])
def test_a_foreign_certificate_refused_at_intake_says_why_and_nothing_is_filed(
    app, client, login_as, clock, other_platform, tmp_path, which, held_licence
):
    from ..cases.test_views import ZXDJ, _apply

    if which == "revoked":
        other_platform["revoke"]()
        credential, expected = other_platform["revoked"], "营业执照已吊销，不能作为免提交材料"
    elif which == "altered":
        head, payload, signature = other_platform["kept"].split(".")
        credential = f"{head}.{payload}.{signature[:5]}{'A' if signature[5] != 'A' else 'B'}{signature[6:]}"
        expected = "签发的证照签名无效（伪造或被篡改）"
    else:
        with app.app_context():
            credential = _foreign_vc(tmp_path, clock, "https://unknown.example.gov.cn")
        expected = "签发平台 https://unknown.example.gov.cn 不在互认信任名单中"
    login_as(client, "张三")
    with app.app_context():
        before = db.session.execute(db.select(db.func.count(Case.id))).scalar_one()
    answer = _apply(client, "scjgj-gtgsh-zxdj", ZXDJ, material_licence=_upload(credential))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and expected in page, page[:3000]
    assert 'value="北京市朝阳区张三便利店"' in page  # what was typed stays
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Case.id))).scalar_one() == before


def test_a_foreign_certificate_of_another_type_is_refused_at_the_window(ctx, clock, other_platform):
    from govservice.catalog import services as catalog

    item = catalog.current_item("scjgj-spjyxk-bg")  # its material is replaced by a 食品经营许可证
    [material] = [m for m in item.materials if m.get("replaceable_by") == "spjyxkz"]
    given = Upload(material["code"], "营业执照.vc.jwt", other_platform["kept"].encode())
    with pytest.raises(UploadRefused) as refused:
        cases.intake_at_window(staff("赵敏"), person("张三"), item, {}, [given], uuid.uuid4().hex)
    assert refused.value.reason == "提交的外地电子证照是“营业执照”，该材料需要“食品经营许可证”。"


def test_a_foreign_certificate_revoked_after_intake_stops_acceptance_at_the_window(ctx, clock, other_platform):
    from govservice.catalog import services as catalog

    from ..factories import pdf_file

    item = catalog.current_item("scjgj-gtgsh-zxdj")
    files = [
        Upload(m["code"], "营业执照.vc.jwt", other_platform["later"].encode())
        if m["code"] == "licence"
        else pdf_file(m["code"])
        for m in item.materials
        if m.get("required")
    ]
    from ..cases.test_views import ZXDJ

    case, created = cases.intake_at_window(staff("赵敏"), person("张三"), item, dict(ZXDJ), files, uuid.uuid4().hex)
    assert created and any(a.content_type == "application/vc+jwt" for a in case.attachments)

    other_platform["revoke"]("later")  # at the other platform, between intake and acceptance
    with pytest.raises(cases.CaseError, match="不能受理：.*营业执照已吊销"):
        cases.accept(case.id, staff("赵敏"), case.version)
    assert db.session.get(Case, case.id).state == "submitted"  # nothing lost: the case waits for a supplement


def test_a_draft_keeps_a_foreign_certificate_checked_and_refuses_an_altered_one(
    app, client, login_as, clock, other_platform, held_licence
):
    from ..cases.test_views import ZXDJ, _case, _key

    login_as(client, "张三")
    page = client.get("/apply/scjgj-gtgsh-zxdj").get_data(as_text=True)
    head, payload, signature = other_platform["kept"].split(".")
    altered = f"{head}.{payload}.{signature[:5]}{'A' if signature[5] != 'A' else 'B'}{signature[6:]}"
    refused = client.post(
        "/apply/scjgj-gtgsh-zxdj",
        data=dict(ZXDJ, action="save", idempotency_key=_key(page), material_licence=_upload(altered)),
        content_type="multipart/form-data",
    )
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "签发的证照签名无效（伪造或被篡改）" in body
    assert "文件类型不符合要求" not in body  # one reason, the real one

    saved = client.post(
        "/apply/scjgj-gtgsh-zxdj",
        data=dict(ZXDJ, action="save", idempotency_key=_key(page), material_licence=_upload(other_platform["kept"])),
        content_type="multipart/form-data",
    )
    resumed = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "已保存的文件：互认电子证照-营业执照-" in resumed
    draft = saved.headers["Location"].rsplit("=", 1)[1]
    submitted = client.post(
        "/apply/scjgj-gtgsh-zxdj",
        data=dict(ZXDJ, draft=draft, idempotency_key=_key(resumed)),
        content_type="multipart/form-data",
    )
    assert submitted.status_code == 302
    with app.app_context():
        case = db.session.get(Case, _case(app).id)
        assert [a.content_type for a in case.attachments if a.material_code == "licence"] == ["application/vc+jwt"]
