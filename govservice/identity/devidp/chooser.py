"""What a browser does at the development provider's identity chooser: open the authorization
URL, press "以 <name> 登录", and take the redirect back to the relying party. For the tests and
the benchmarks, which sign in through the real OpenID Connect round trip."""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin, urlsplit

import requests

_FORM = re.compile(r'<form method="post" action="([^"]*)">(.*?)</form>', re.S)
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def choose(authorize: str, name: str, browser: requests.Session | None = None) -> str:
    """Choose the demo identity `name` at `authorize` (any development provider instance);
    returns the path and query of the redirect back to the platform (its callback)."""
    http = browser or requests
    page = http.get(authorize, timeout=10)
    page.raise_for_status()
    for action, body in _FORM.findall(page.text):  # noqa: B007
        button = re.search(
            rf'<button type="submit" name="identity" value="([^"]*)">以 {re.escape(name)} 登录</button>', body
        )
        if button:
            break
    else:
        raise LookupError(f"no identity {name!r} at {authorize}")
    fields = {k: html.unescape(v) for k, v in _HIDDEN.findall(body)}
    fields["identity"] = html.unescape(button.group(1))
    answer = http.post(urljoin(authorize, html.unescape(action)), data=fields, allow_redirects=False, timeout=10)
    if answer.status_code not in (302, 303):
        raise RuntimeError(f"the provider did not send {name!r} back: {answer.status_code} {answer.text[:200]}")
    callback = urlsplit(answer.headers["Location"])
    return f"{callback.path}?{callback.query}"
