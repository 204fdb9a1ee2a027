"""Route guards: who may open a page."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required


def require_role(*roles: str):
    """Signed in and holding one of `roles`; others get 403 with a page saying so."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
