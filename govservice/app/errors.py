"""Error pages in the person's language; an expired form or session is explained, not a 400."""

from flask import Flask, current_app, flash, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf.csrf import CSRFError

from govservice.security import retry_after, same_site_referrer

MESSAGES = {
    400: _l("请求无效。"),
    403: _l("您没有权限访问此页面。"),
    404: _l("页面不存在，或您要找的内容已不存在。"),
    413: _l("上传的文件过大。"),
    429: _l("操作过于频繁，请稍后再试。"),
    500: _l("系统出现错误，我们已记录，请稍后再试。"),
}
FIELD_TOO_LONG = _l("填写的内容过长，请删减后重新提交（您填写的内容未被提交）。")


def _message(exc, code):
    """Our own description (a translated message given to `abort`), else the code's message."""
    if code == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        body = request.content_length or 0
        if request.mimetype != "multipart/form-data" or (limit and body <= limit):
            return FIELD_TOO_LONG  # the body was within the limit: a text field was too long
        return _l(
            "上传的文件过大，单个材料不能超过 %(mb)s MB（您填写的内容未被提交）。",
            mb=current_app.config["MAX_UPLOAD_MB"],
        )
    description = getattr(exc, "description", None)
    return description if isinstance(description, LazyString) else MESSAGES[code]


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        back = same_site_referrer(request.referrer, request.host_url) if request.method == "POST" else None
        if back:
            flash(_l("页面已过期或会话已失效，请重新操作（您填写的内容未被提交）。"), "error")
            return redirect(back)
        return render_template("error.html", code=400, message=MESSAGES[400]), 400

    def page(exc, code):
        headers = {"Retry-After": retry_after(exc)} if code == 429 else {}
        return render_template("error.html", code=code, message=_message(exc, code)), code, headers

    for code in MESSAGES:
        app.register_error_handler(code, lambda exc, code=code: page(exc, code))
