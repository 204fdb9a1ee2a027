"""/oauth/token: a stranger guessing secrets is slowed down at his own address and cannot lock the
real partner out; every 429 says when to come back (Retry-After)."""

from __future__ import annotations

import pytest

from ..factories import register_partner, token_response


def _token(client, client_id, secret, address):
    return token_response(client, client_id, secret, address=address)


@pytest.fixture
def app_config():
    """The token endpoint's limits on (an app of these settings, shared by the module's tests)."""
    return {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "PARTNER_TOKEN_RATE_LIMIT": "30/minute",
        "PARTNER_TOKEN_FAILURE_LIMIT": "5/minute",
        "PARTNER_TOKEN_CLIENT_LIMIT": "8/minute",
    }


@pytest.fixture
def limited(app):
    return app


def test_a_stranger_guessing_a_partners_secret_does_not_lock_the_partner_out(limited):
    with limited.app_context():
        partner, secret = register_partner()
        client = limited.test_client()
        guesses = [_token(client, partner.client_id, f"guess-{i}", "203.0.113.9").status_code for i in range(7)]
        assert guesses == [401] * 5 + [429] * 2
        refused = _token(client, partner.client_id, "guess", "203.0.113.9")
        assert (
            refused.get_json()["error"] == "rate_limited" and 1 <= int(refused.headers["Retry-After"]) <= 61
        )  # the window, rounded up
        assert _token(client, partner.client_id, secret, "198.51.100.7").status_code == 200  # the real partner


def test_claiming_many_client_ids_from_one_address_is_limited(limited):
    with limited.app_context():
        client = limited.test_client()
        codes = [_token(client, f"made-up-{i}", "x", "203.0.113.9").status_code for i in range(40)]
        assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}


def test_tokens_issued_to_one_client_are_limited_whatever_the_address(limited):
    with limited.app_context():
        partner, secret = register_partner()
        client = limited.test_client()
        codes = [_token(client, partner.client_id, secret, f"198.51.100.{i}").status_code for i in range(9)]
        assert codes == [200] * 8 + [429]
        assert "Retry-After" in _token(client, partner.client_id, secret, "198.51.100.99").headers
