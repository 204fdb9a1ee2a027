"""Development OpenID Connect provider (开发用身份提供方): a standalone app for dev and tests.

It signs people in as fictitious demo identities so the platform can be run and tested
without a real identity provider. The platform talks to it only through standard OpenID
Connect (discovery, authorization code with PKCE, userinfo, RP-initiated logout), exactly as
it would to a real provider, and must never depend on it being this implementation.

Development shortcuts a real provider would not take: the default client accepts any
`/auth/callback/...` redirect URI on a loopback host; there is no password, anyone may pick
any identity; codes and tokens live in memory. Never deploy it.
"""

from .app import create_idp_app
from .serving import serve_in_thread

__all__ = ["create_idp_app", "serve_in_thread"]
