"""The OpenAPI 3.0 document of the partner API, served at ``/api/v1/openapi.json``.

Written by hand next to the code it describes; tests check it is a valid OpenAPI document,
that every route of the partner blueprint is in it, and that real answers match its schemas.
"""

from __future__ import annotations

from flask import current_app

from .models import SCOPES

STATUSES = ["valid", "revoked", "suspended", "expired", "superseded", "forged", "not_found"]


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def document() -> dict:
    base = current_app.config["PUBLIC_URL"]
    nullable_time = {"type": "string", "format": "date-time", "nullable": True}
    summary = {
        "type": "object",
        "required": ["identifier", "type", "type_name", "version", "issuer", "holder", "issued_at", "pdf_sha256"],
        "properties": {
            "identifier": {"type": "string", "description": "GB/T 36904"},
            "type": {"type": "string"},
            "type_name": {"type": "string"},
            "version": {"type": "integer"},
            "issuer": {"type": "string"},
            "holder": {"type": "string", "description": "核验：个人脱敏，企业全称；授权读取：全名"},
            "holder_uscc": {"type": "string", "description": "企业持证时的统一社会信用代码（授权读取）"},
            "issued_at": {"type": "string", "format": "date-time"},
            "expires_at": nullable_time,
            "status_changed_at": nullable_time,
            "superseded_by": {"type": "string", "nullable": True},
            "pdf_sha256": {"type": "string", "description": "SHA-256 of the signed PDF"},
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "govservice 电子证照合作方接口 (partner API)",
            "version": "1.0.0",
            "description": (
                "供合作部门的业务系统核验电子证照、并在持证人授权后读取证照全部内容。\n\n"
                "Authentication: OAuth 2.0 client credentials at `/oauth/token` (HTTP Basic or form "
                "`client_id`/`client_secret`); send the access token as `Authorization: Bearer ...`. "
                "Every call is rate-limited per client (HTTP 429 with `Retry-After` when exceeded) and "
                "logged; the holder sees every check and read of a certificate in the wallet. "
                "Offline verification: the QR token is a compact JWS (ES256) verifiable with the keys "
                "at `/.well-known/jwks.json` (old keys stay published after rotation)."
            ),
        },
        "servers": [{"url": base}],
        "security": [{"partnerOAuth": []}],
        "paths": {
            "/oauth/token": {
                "post": {
                    "summary": "获取访问令牌 (client credentials grant, RFC 6749 §4.4)",
                    "operationId": "token",
                    "security": [],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": {
                                    "type": "object",
                                    "required": ["grant_type"],
                                    "properties": {
                                        "grant_type": {"type": "string", "enum": ["client_credentials"]},
                                        "scope": {
                                            "type": "string",
                                            "description": "space-separated; omitted = all the client's scopes",
                                        },
                                        "client_id": {"type": "string", "description": "if not sent with HTTP Basic"},
                                        "client_secret": {
                                            "type": "string",
                                            "description": "if not sent with HTTP Basic",
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "访问令牌",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Token"}}},
                        },
                        "400": {"description": "invalid_request / invalid_scope / unsupported_grant_type"},
                        "401": {"description": "invalid_client: unknown client, wrong secret, or disabled"},
                        "429": {"description": "too many token requests"},
                    },
                },
            },
            "/api/v1/certificates/verify": {
                "post": {
                    "summary": "核验证照状态 (scope certificates:verify)",
                    "operationId": "verifyCertificate",
                    "security": [{"partnerOAuth": ["certificates:verify"]}],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/VerifyRequest"}}},
                    },
                    "responses": {
                        "200": {
                            "description": "核验结果（含伪造、未找到）",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/VerifyResult"}}},
                        },
                        "400": _error("invalid_request / invalid_identifier"),
                        "401": _error("missing or invalid access token"),
                        "403": _error("insufficient_scope"),
                        "429": _error("rate_limited"),
                    },
                },
            },
            "/api/v1/consents/{code}": {
                "parameters": [
                    {
                        "name": "code",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                        "description": "持证人给出的一次性授权码（12位，连字符可有可无），或授权链接的最后一段",
                    }
                ],
                "post": {
                    "summary": "凭持证人授权读取证照全部内容 (scope certificates:read)",
                    "description": "A grant names one partner, one certificate, a purpose and an expiry, and can be "
                    "used once. Withdrawn, used and expired grants answer 410; an unknown code, "
                    "or one granted to another partner, answers 404.",
                    "operationId": "readCertificateWithConsent",
                    "security": [{"partnerOAuth": ["certificates:read"]}],
                    "responses": {
                        "200": {
                            "description": "证照全部内容与签名PDF",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ReadResult"}}},
                        },
                        "401": _error("missing or invalid access token"),
                        "403": _error("insufficient_scope"),
                        "404": _error("consent_invalid"),
                        "410": _error("consent_used / consent_expired / consent_withdrawn"),
                        "429": _error("rate_limited"),
                    },
                },
                "get": {
                    "summary": "授权链接在浏览器中打开时的说明（不使用授权）",
                    "operationId": "consentLinkOpened",
                    "security": [],
                    "responses": {"405": _error("method_not_allowed: POST with a bearer token")},
                },
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "本文档",
                    "operationId": "openapi",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3 document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                },
            },
        },
        "components": {
            "securitySchemes": {
                "partnerOAuth": {
                    "type": "oauth2",
                    "flows": {"clientCredentials": {"tokenUrl": f"{base}/oauth/token", "scopes": dict(SCOPES)}},
                },
            },
            "schemas": {
                "Token": {
                    "type": "object",
                    "required": ["access_token", "token_type", "expires_in"],
                    "properties": {
                        "access_token": {"type": "string"},
                        "token_type": {"type": "string", "enum": ["Bearer"]},
                        "expires_in": {"type": "integer"},
                        "scope": {"type": "string"},
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {
                        "error": {"type": "string"},
                        "message": {"type": "string", "description": "中文说明"},
                    },
                },
                "VerifyRequest": {
                    "type": "object",
                    "required": ["purpose"],
                    "description": "Exactly one of token or identifier.",
                    "properties": {
                        "token": {"type": "string", "description": "二维码中的令牌（/v/ 之后的部分）"},
                        "identifier": {"type": "string", "description": "GB/T 36904 证照标识"},
                        "purpose": {
                            "type": "string",
                            "minLength": 2,
                            "maxLength": 200,
                            "description": "核验用途，持证人可见",
                        },
                        "pdf_sha256": {
                            "type": "string",
                            "pattern": "^[0-9a-fA-F]{64}$",
                            "description": "所持PDF文件的SHA-256，回答 document_matches",
                        },
                    },
                },
                "Summary": summary,
                "VerifyResult": {
                    "type": "object",
                    "required": ["status", "status_label", "checked_at", "certificate"],
                    "properties": {
                        "status": {"type": "string", "enum": STATUSES},
                        "status_label": {"type": "string"},
                        "checked_at": {"type": "string", "format": "date-time"},
                        "certificate": dict(summary, nullable=True, description="null when forged or not found"),
                        "document_matches": {"type": "boolean"},
                    },
                },
                "Content": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Summary"},
                        {
                            "type": "object",
                            "required": ["fields"],
                            "properties": {
                                "fields": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["name", "label", "value"],
                                        "properties": {
                                            "name": {"type": "string"},
                                            "label": {"type": "string"},
                                            "value": {"type": "string"},
                                        },
                                    },
                                }
                            },
                        },
                    ]
                },
                "ReadResult": {
                    "type": "object",
                    "required": ["status", "status_label", "certificate", "consent", "pdf_base64"],
                    "properties": {
                        "status": {"type": "string", "enum": STATUSES},
                        "status_label": {"type": "string"},
                        "certificate": {"$ref": "#/components/schemas/Content"},
                        "consent": {
                            "type": "object",
                            "properties": {
                                "purpose": {"type": "string"},
                                "granted_at": {"type": "string", "format": "date-time"},
                                "expires_at": {"type": "string", "format": "date-time"},
                                "used_at": {"type": "string", "format": "date-time"},
                            },
                        },
                        "pdf_base64": {
                            "type": "string",
                            "format": "byte",
                            "description": "签名PDF（PAdES），可独立验签",
                        },
                    },
                },
            },
        },
    }
