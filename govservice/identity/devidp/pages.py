"""The IdP's few HTML pages: self-contained (inline CSS, no scripts, no external assets).

The IdP is a separate app from the platform, so it shares none of its templates; keeping
the markup here avoids a template folder for three small pages. Jinja autoescapes
`render_template_string`, so request parameters echoed into hidden fields are safe.
"""

from __future__ import annotations

from flask import make_response, render_template_string, url_for
from markupsafe import Markup

from .identities import IDENTITIES, Directory, achieved_acr, mask_id_number

_LAYOUT = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} - 开发用身份提供方</title>
<style>
body { font-family: system-ui, "PingFang SC", "Microsoft YaHei", sans-serif; margin: 0;
       background: #f4f5f7; color: #1b1b1b; line-height: 1.6; }
main { max-width: 44rem; margin: 2rem auto; padding: 1.5rem; background: #fff;
       border: 1px solid #c9ccd1; border-radius: 6px; }
h1 { font-size: 1.4rem; margin-top: 0; }
.warning { background: #fff4ce; border-left: 4px solid #8a6100; padding: .5rem .75rem; }
ul.identities { list-style: none; padding: 0; }
ul.identities li { border: 1px solid #c9ccd1; border-radius: 4px; padding: .75rem; margin: .75rem 0; }
.who { font-weight: bold; font-size: 1.1rem; margin: 0; }
.facts { margin: .25rem 0 .5rem; color: #3d3d3d; }
button { font: inherit; padding: .4rem 1rem; border-radius: 4px; border: 1px solid #0b4f9c;
         background: #0b4f9c; color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: #0b4f9c; }
button:focus-visible { outline: 3px solid #f2a900; outline-offset: 2px; }
</style>
</head>
<body>
<main>
{{ body }}
</main>
</body>
</html>
"""

_LOGIN = """
<h1>开发用身份提供方（仅限开发和测试）</h1>
<p class="warning">以下均为虚构的演示身份，只能用于开发和测试，切勿用于生产环境。</p>
<p>应用 <strong>{{ client_id }}</strong> 请求您登录。请选择一个演示身份：</p>
{% if acr_values %}
<p>应用要求的认证级别：{{ acr_values }}。能达到该级别的身份将以更强的认证方式（模拟人脸识别）登录；
达不到的按其最高级别登录，由应用决定是否接受。</p>
{% endif %}
{% macro request_fields() %}{% for name, value in params %}
<input type="hidden" name="{{ name }}" value="{{ value }}">{% endfor %}{% endmacro %}
<ul class="identities">
{% for identity in identities %}
<li>
<form method="post" action="{{ action }}">{{ request_fields() }}
<h2 class="who">{{ identity.name }}（{{ identity.description }}）</h2>
<p class="facts">身份证号码：{{ identity.masked_id_number }}；手机号码：{{ identity.phone_number }}；认证级别：{{ identity.acr }}{% if identity.max_acr != identity.acr %}（最高可达 {{ identity.max_acr }}）{% endif %}{% if acr_values %}；本次登录级别：{{ identity.achieved }}{% endif %}</p>
<button type="submit" name="identity" value="{{ identity.subject }}">以 {{ identity.name }} 登录</button>
</form>
</li>
{% endfor %}
</ul>
<form method="post" action="{{ action }}">{{ request_fields() }}
<button type="submit" name="cancel" value="1" class="secondary">取消</button>
</form>
"""  # noqa: E501

_MESSAGE = """
<h1>{{ title }}</h1>
{% for line in lines %}<p>{{ line }}</p>{% endfor %}
"""


def login_page(
    client_id: str, params: list[tuple[str, str]], acr_values: str | None, directory: Directory | None = None
):
    """The identity chooser; `params` is the authorization request, replayed by every form.

    Carrying the request in hidden fields keeps the IdP stateless between the two steps and
    needs no CSRF token: each post is a complete authorization request plus a choice.
    """
    directory = directory or Directory()
    identities = [
        dict(
            identity,
            masked_id_number=mask_id_number(identity["id_number"]),
            subject=directory.subject(identity),
            achieved=achieved_acr(identity, acr_values),
        )
        for identity in IDENTITIES
    ]
    body = render_template_string(
        _LOGIN,
        client_id=client_id,
        params=params,
        acr_values=acr_values,
        identities=identities,
        action=url_for("devidp.authorize"),
    )
    return _page("登录", body)


def message_page(title: str, lines: list[str], status: int = 200):
    """A page with a heading and a few sentences: logged out, or a request that cannot go on."""
    return _page(title, render_template_string(_MESSAGE, title=title, lines=lines), status)


def _page(title: str, body: str, status: int = 200):
    # `body` was rendered (and escaped) by Jinja already; mark it so it is not escaped twice.
    html = render_template_string(_LAYOUT, title=title, body=Markup(body))
    return make_response(html, status, {"Content-Type": "text/html; charset=utf-8"})
