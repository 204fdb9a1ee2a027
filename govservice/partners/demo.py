"""The demo partner system, for trying the API: 卫生健康委员会's 公共场所卫生许可审批系统, which
checks business and food licences (certificates:verify) and, with the holder's consent, reads
them (certificates:read). Its secret is generated once into instance/keys (or taken from
DEMO_PARTNER_SECRET), so `govservice partners demo` can print it; only its hash is stored."""

from __future__ import annotations

from flask import current_app

from ..audit import services as audit
from ..core import clock
from ..core.extensions import db
from ..core.keys import instance_secret
from .models import SCOPES, PartnerClient, secret_hash
from .services import query_client

CLIENT_ID = "demo-wsjkw"
NAME = "公共场所卫生许可审批系统（演示）"
ORGANISATION = "卫生健康委员会"


def credentials() -> tuple[str, str]:
    return CLIENT_ID, instance_secret(current_app.config["INSTANCE_DIR"], "demo_partner_secret", "DEMO_PARTNER_SECRET")


def load() -> list[str]:
    client_id, secret = credentials()
    client = query_client(client_id)
    if client is None:
        db.session.add(
            PartnerClient(
                client_id=client_id,
                secret_hash=secret_hash(secret),
                name=NAME,
                organisation=ORGANISATION,
                scope=" ".join(SCOPES),
                created_at=clock.now(),
            )
        )
        audit.record("partner.register", subject=f"partner:{client_id}", detail={"demo": True})
        db.session.commit()
        return [f"partner: {client_id} ({ORGANISATION}); `flask --app app govservice partners demo` shows its secret"]
    if client.secret_hash != secret_hash(secret):  # the instance's secret file was replaced
        client.secret_hash = secret_hash(secret)
        db.session.commit()
        return [f"partner: {client_id} secret reset to the instance's demo secret"]
    return []


def usage(public_url: str, client_id: str, secret: str) -> list[str]:
    return [
        f"demo partner:  {ORGANISATION} · {NAME}",
        f"client_id:     {client_id}",
        f"client_secret: {secret}",
        "",
        "# 1. an access token (client credentials)",
        f"curl -s -u '{client_id}:{secret}' -d grant_type=client_credentials {public_url}/oauth/token",
        '# 2. verify a certificate by its identifier (or "token": the QR\'s token)',
        f"curl -s -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' "
        f'-d \'{{"identifier": "1.2.156.3005.2....", "purpose": "核验营业执照"}}\' '
        f"{public_url}/api/v1/certificates/verify",
        "# 3. read the full content with the holder's one-time consent code (我的证照 → 授权用证)",
        f'curl -s -X POST -H "Authorization: Bearer $TOKEN" {public_url}/api/v1/consents/<code>',
        f"# the API's OpenAPI 3 document: {public_url}/api/v1/openapi.json",
    ]
