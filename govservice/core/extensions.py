"""Extension objects, bound to the app in `create_app`."""

import flask_limiter
from flask_babel import Babel
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

# Named constraints, so Alembic migrations are the same on SQLite and PostgreSQL.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

db = SQLAlchemy(metadata=metadata)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


class Limiter(flask_limiter.Limiter):
    """Flask-Limiter for the limits declared on views (`@limiter.limit`), the only kind used here.

    Flask-Limiter also runs a check before *every* request, for application-wide, default and
    blueprint limits; with none of those configured it finds nothing, and it cost about a third
    of a simple page's time. The decorated limits are checked by their decorators
    (`in_middleware=False`) as before."""

    def _check_request_limit(self, callable_name=None, in_middleware=True):
        if in_middleware:
            return
        super()._check_request_limit(callable_name, in_middleware)


limiter = Limiter(key_func=get_remote_address, default_limits=[])
