"""Key rotation keeps old certificates verifiable through the published JWKS; tokens signed by a
key that is not published, or naming an unknown kid, are forged: counted, and nothing written per request."""

import base64
import json

from govservice.audit.models import AuditEntry
from govservice.certificates import tokens, verification
from govservice.certificates.models import Verification
from govservice.core.extensions import db

from ..factories import issue, refused_count


def test_rotation_keeps_old_certificates_verifiable_via_the_jwks(app, ctx, clock):
    old = issue()
    old_kid = tokens.unverified_header(old.token)["kid"]
    runner = app.test_cli_runner()
    rotated = runner.invoke(args=["govservice", "keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    new_kid = ctx.extensions["token_keys"].active_kid
    assert new_kid != old_kid and new_kid in rotated.output and old_kid in rotated.output

    new = issue("jzz")
    assert tokens.unverified_header(new.token)["kid"] == new_kid

    public = app.test_client()
    jwks = public.get("/.well-known/jwks.json").get_json()
    assert [k["kid"] for k in jwks["keys"]] == [new_kid, old_kid]
    # what an offline verifier does with the published keys
    assert tokens.verify_with_jwks(old.token, jwks)["cid"] == old.identifier
    assert tokens.verify_with_jwks(new.token, jwks)["cid"] == new.identifier
    assert "核验结果：有效" in public.get(f"/v/{old.token}").get_data(as_text=True)

    listed = runner.invoke(args=["govservice", "keys", "list"]).output.splitlines()
    assert listed == [f"{new_kid}\tactive", f"{old_kid}\tverification only"]
    assert db.session.execute(db.select(AuditEntry).where(AuditEntry.action == "certificate.keys.rotate")).scalar_one()


def test_a_token_signed_by_an_unpublished_key_is_forged(app, ctx, clock, tmp_path):
    genuine = issue()
    claims = ctx.extensions["token_keys"].verify(genuine.token)
    rogue = tokens.TokenKeyStore(tmp_path / "rogue")
    counterfeit = rogue.sign(claims)  # same claims, the forger's own key and kid
    jwks = app.test_client().get("/.well-known/jwks.json").get_json()
    try:
        tokens.verify_with_jwks(counterfeit, jwks)
        raise AssertionError("an unpublished key verified")
    except tokens.TokenError as exc:
        assert exc.reason == "unknown_kid"
    page = app.test_client().get(f"/v/{counterfeit}")
    assert page.status_code == 404 and "无效（伪造或被篡改）" in page.get_data(as_text=True)
    assert genuine.identifier not in page.get_data(as_text=True)


def test_a_forgers_key_under_our_kid_is_forged(ctx, clock, tmp_path):
    genuine = issue()
    kid = tokens.unverified_header(genuine.token)["kid"]
    rogue = tokens.TokenKeyStore(tmp_path / "rogue")
    rogue.ensure_key()
    from joserfc import jwt

    forged = jwt.encode(
        {"alg": "ES256", "kid": kid},
        ctx.extensions["token_keys"].verify(genuine.token),
        rogue._keys()[0].private,
        algorithms=["ES256"],
    )
    before = refused_count("bad_signature")
    assert verification.verify_token(forged, channel="page", verifier="t") == ("forged", None)
    assert refused_count("bad_signature") == before + 1


def test_a_wallet_token_for_another_document_is_forged(ctx, clock):
    """The wallet token binds the PDF's hash: the same claims with another hash do not pass."""
    genuine = issue()
    claims = ctx.extensions["token_keys"].verify(genuine.token)
    other_document = ctx.extensions["token_keys"].sign(dict(claims, sha256="0" * 64))
    before = refused_count("wrong_document")
    assert verification.verify_token(other_document, channel="page", verifier="t") == ("forged", None)
    assert refused_count("wrong_document") == before + 1


def test_bad_tokens_answer_forged_are_counted_and_write_nothing(app, ctx, clock):
    genuine = issue()
    header, payload, signature = genuine.token.split(".")
    unknown_header = base64.urlsafe_b64encode(json.dumps({"alg": "ES256", "kid": "no-such-key"}).encode()).decode()
    cases = {
        "changed byte": f"{header}.{payload[:-3]}{'A' if payload[-3] != 'A' else 'B'}{payload[-2:]}.{signature}",
        "unknown kid": f"{unknown_header.rstrip('=')}.{payload}.{signature}",
        "garbage": "not-a-token",
    }
    client = app.test_client()
    before = {reason: refused_count(reason) for reason in ("bad_signature", "unknown_kid", "malformed")}
    audited = db.session.execute(db.select(db.func.count(AuditEntry.id))).scalar_one()
    for name, token in cases.items():
        page = client.get(f"/v/{token}")
        assert page.status_code == 404, name
        text = page.get_data(as_text=True)
        assert "核验结果：无效（伪造或被篡改）" in text and genuine.identifier not in text and "张*" not in text, name
    verification.flush()
    assert {reason: refused_count(reason) - n for reason, n in before.items()} == {
        "bad_signature": 1,
        "unknown_kid": 1,
        "malformed": 1,
    }
    # no row per forged request: neither a verification nor an audit entry
    assert db.session.execute(db.select(db.func.count(Verification.id))).scalar_one() == 0
    assert db.session.execute(db.select(db.func.count(AuditEntry.id))).scalar_one() == audited
