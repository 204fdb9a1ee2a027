"""bench/submit_ab.py: the application form leaving the CSRF token to CSRFProtect, against the
form signing and checking its own as well (as before)."""

from govservice.cases import forms

NAMES = {True: "CSRFProtect's check alone", False: "and the form's own token"}
_form_class = forms._form_class
_with_token: dict = {}


def _form_class_with_token(item, held, kept):
    cls = _form_class(item, held, kept)
    if cls not in _with_token:

        class WithToken(cls):
            class Meta:
                csrf = True

        _with_token[cls] = WithToken
    return _with_token[cls]


def setup(app) -> None:
    pass


def toggle(new: bool) -> None:
    forms._form_class = _form_class if new else _form_class_with_token
