"""互认: a second instance of the platform, with its own database, keys and address, issues a
certificate; this platform, whose trust list names it, accepts that certificate as a material
(signature under the other's published keys, the other's status list) and refuses it once the
other revokes it, altered, held by someone else, or from an issuer not on the list."""

from __future__ import annotations

import socket
import uuid

import pytest
from werkzeug.serving import make_server

from govservice import create_app
from govservice.audit.models import AuditEntry
from govservice.certificates import documents, lifecycle, services
from govservice.certificates.tokens import TokenKeyStore
from govservice.credentials import w3c_vc
from govservice.extensions import db

from ..factories import DATA, issue, person
from ..factories import person as staff


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
        from govservice import demo

        demo.load(certificates=False)
        kept, revoked = (issue("yyzz") for _ in range(2))
        credentials = {"kept": documents.w3c_vc(kept), "revoked": documents.w3c_vc(revoked)}
        revoked_id = revoked.id

        def revoke():
            with other.app_context():
                lifecycle.revoke(revoked_id, staff("刘洋"), "以欺骗手段取得登记")

        db.session.remove()
    yield {"url": url, "revoke": revoke, **credentials}
    server.shutdown()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
issuer = "http://127.0.0.1:{_closed_port()}"
''',
        encoding="utf-8",
    )
    return {"TRUST_LIST_FILE": str(trust_list), "TRUST_CACHE_SECONDS": 0, "TRUST_TIMEOUT": 2}


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
    untrusted = w3c_vc(
        TokenKeyStore(tmp_path / "keys"),
        base_url="https://unknown.example.gov.cn",
        type_code="yyzz",
        type_name="营业执照",
        identifier="X",
        issuer_name="某市市场监督管理局",
        holder="张三",
        fields=DATA["yyzz"],
        index=1,
        issued_at=clock.now(),
        expires_at=None,
    )
    refused = _check(untrusted)
    assert not refused.ok and "不在互认信任名单中" in refused.reason and "unknown.example.gov.cn" in refused.reason

    # a listed platform that cannot be reached: refused for now, with the reason, nothing lost
    gone = next(i for i in ctx.extensions["trust_list"].values() if i.name == "gone")
    unreachable = w3c_vc(
        TokenKeyStore(tmp_path / "keys"),
        base_url=gone.issuer,
        type_code="yyzz",
        type_name="营业执照",
        identifier="Y",
        issuer_name="某区市场监督管理局",
        holder="张三",
        fields=DATA["yyzz"],
        index=1,
        issued_at=clock.now(),
        expires_at=None,
    )
    assert "暂时无法获取" in _check(unreachable).reason
    assert "不是可核验的电子证照凭证" in _check("eyJnot.a.credential").reason
