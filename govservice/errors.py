"""Error pages in the person's language; an expired form or session is explained, not a 400."""
from flask import Flask, flash, redirect, render_template, request
from flask_wtf.csrf import CSRFError

MESSAGES = {
    400: "请求无效。",
    403: "您没有权限访问此页面。",
    404: "页面不存在，或您要找的内容已不存在。",
    413: "上传的文件过大。",
    429: "操作过于频繁，请稍后再试。",
    500: "系统出现错误，我们已记录，请稍后再试。",
}


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        flash("页面已过期或会话已失效，请重新操作（您填写的内容未被提交）。", "error")
        return redirect(request.referrer or request.path) if request.method == "POST" and request.referrer \
            else (render_template("error.html", code=400, message=MESSAGES[400]), 400)

    for code, message in MESSAGES.items():
        app.register_error_handler(code, lambda exc, code=code, message=message:
                                   (render_template("error.html", code=code, message=message), code,
                                    _retry_after(exc)))


def _retry_after(exc) -> dict:
    """A 429 says when to come back (RFC 6585, RFC 9110 Retry-After)."""
    seconds = getattr(exc, "retry_after", None)
    return {"Retry-After": str(int(seconds))} if isinstance(seconds, (int, float)) and seconds > 0 else {}
