"""Personal data: encrypted at rest, found by a keyed hash, shown masked.

ID numbers and other personal fields are stored as Fernet ciphertexts; a row is found by
HMAC-SHA256 of the normalised value under a separate key, so the database alone reveals
neither the number nor a dictionary-attackable plain hash.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


def _fernet() -> MultiFernet:
    return _fernet_of(tuple(current_app.config["DATA_KEYS"]))


@functools.lru_cache(maxsize=8)
def _fernet_of(keys: tuple[str, ...]) -> MultiFernet:
    """Built once per set of keys (a rotation is a new set), not for every value read."""
    return MultiFernet([Fernet(k) for k in keys])


def encrypt(value: str | None) -> str | None:
    if value is None:
        return None
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str | None) -> str | None:
    if token is None:
        return None
    return _decrypted(tuple(current_app.config["DATA_KEYS"]), token)


@functools.lru_cache(maxsize=1024)
def _decrypted(keys: tuple[str, ...], token: str) -> str:
    """The plaintext of a ciphertext under a set of keys, remembered for the ciphertexts read most
    recently in this process: a signed-in person's own rows and session are read again on every
    request of theirs (the same bytes each time, until a write makes a new ciphertext), and a
    Fernet decryption (HMAC, AES, base64) was 4 % of a submission's CPU (py-spy). It keeps in
    memory nothing that the process cannot already read: the keys are in its configuration. A
    failed decryption raises, and is not remembered."""
    try:
        return _fernet_of(keys).decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a wrong key is an operator error, never silently empty
        raise RuntimeError("personal data could not be decrypted: wrong DATA_KEY?") from exc


def encrypt_json(data: dict) -> str:
    return encrypt(json.dumps(data, ensure_ascii=False, sort_keys=True))


def decrypt_json(token: str | None) -> dict:
    return json.loads(decrypt(token)) if token else {}


def lookup_hash(value: str) -> str:
    key = current_app.config["ID_HASH_KEY"].encode()
    return hmac.new(key, value.strip().upper().encode(), hashlib.sha256).hexdigest()


def mask_id_number(number: str | None) -> str:
    """110105199001010011 -> 110105********0011 (region kept, birth date hidden)."""
    if not number:
        return ""
    if len(number) <= 10:
        return number[:2] + "*" * (len(number) - 2)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_name(name: str | None) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***; a business name is not personal and stays whole."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 11 else "*" * len(phone)
