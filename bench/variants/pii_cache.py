"""bench/submit_ab.py: personal data's plaintexts remembered by ciphertext, against a Fernet
decryption on every read (as before)."""

from govservice.core import pii

NAMES = {True: "plaintexts remembered", False: "decrypted on every read"}
_remembered = pii._decrypted
_every_time = _remembered.__wrapped__


def setup(app) -> None:
    pass


def toggle(new: bool) -> None:
    pii._decrypted = _remembered if new else _every_time
