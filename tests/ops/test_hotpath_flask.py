"""What the hot path (ops/hotpath.py) leaves to Flask is Flask's alone: any other request goes
through Flask once, and what Flask raises reaches the server as it was raised."""

import pytest
from werkzeug.test import EnvironBuilder

from govservice.ops.hotpath import HotPath


class Refused(Exception):
    pass


def test_a_request_flask_fails_on_is_sent_to_flask_once_and_its_error_kept(app):
    calls = []

    def flask_app(environ, start_response):
        calls.append(environ["PATH_INFO"])
        raise Refused("the form was sent while the database was down")

    middleware = HotPath(app, flask_app)
    environ = EnvironBuilder(path="/apply/yyzz", method="POST").get_environ()
    with pytest.raises(Refused, match="database was down"):
        middleware(environ, lambda *_args: None)
    assert calls == ["/apply/yyzz"]  # never sent again: a submission is not made twice
