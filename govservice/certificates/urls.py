"""The public pages behind a certificate's two QR codes, as absolute URLs (``PUBLIC_URL``):
built without ``url_for``, since issuance also runs outside a request (the demo command, Celery
workers), and both a short reference and a token are URL-safe (base64url and dots)."""

from __future__ import annotations

from flask import current_app


def reference_url(reference: str) -> str:
    """The public page behind a printed QR (a short reference, ``shortref.py``; URL-safe)."""
    return f"{current_app.config['PUBLIC_URL']}/r/{reference}"


def verify_url(token: str) -> str:
    """The public page behind the QR. Built without url_for: issuance also runs outside a request
    (the demo command, Celery workers), and a token is URL-safe (base64url and dots)."""
    return f"{current_app.config['PUBLIC_URL']}/v/{token}"
