"""The ID-card reader of a terminal (二代身份证阅读器), behind one small interface.

A reader hands the platform a `CardReading` (number, name, the card's end of validity) or
refuses with a `ReadingRefused` whose message the person at the terminal reads.

* `DevelopmentReader` (`KIOSK_CARD_READER=development`, what `make run` and the tests use): the
  cards of the development provider's demo citizens, and one expired card, chosen on screen as
  if laid on the reader. Refused outside development.
* `SignedReader` (`KIOSK_CARD_READER=signed`): the terminal's reader agent reads the chip and
  signs what it read as a compact JWS (ES256) with its own key, whose public half the
  administrator registered with the terminal. The reading must name this terminal (`aud`),
  carry the nonce the sign-in screen was given (so a reading cannot be replayed) and be fresh.
  The screen publishes its nonce as `data-nonce` on the form `#kiosk-card`; the terminal's shell
  hands the signed reading to the page as `document.dispatchEvent(new CustomEvent("kiosk:card",
  {detail: {reading}}))`, and the page posts it (static/kiosk.js).

      header  {"alg": "ES256", "typ": "kiosk-card+jwt"}
      claims  {"aud": "kiosk:<device id>", "nonce": "...", "iat": 1764590000,
               "id_number": "110105198802150035", "name": "张三", "valid_until": "2036-05-01"}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..core import clock

#: How old a signed reading may be, in seconds.
MAX_AGE = 120


class ReadingRefused(Exception):
    def __init__(self, message, reason: str):
        super().__init__(reason)
        self.message = message
        self.reason = reason


@dataclass(frozen=True)
class CardReading:
    id_number: str
    name: str
    valid_until: date | None


@dataclass(frozen=True)
class DemoCard:
    key: str
    name: str
    id_number: str
    valid_until: date

    @property
    def expired(self) -> bool:
        return self.valid_until < clock.today()

    @property
    def masked(self) -> str:
        return self.id_number[:6] + "********" + self.id_number[-4:]


class DevelopmentReader:
    name = "development"
    signed = False

    def cards(self) -> list[DemoCard]:
        from ..identity.devidp.identities import IDENTITIES

        today = clock.today()
        cards = [
            DemoCard(i["key"], i["name"], i["id_number"], today + timedelta(days=3650))
            for i in IDENTITIES
            if not i.get("staff")  # the demo citizens
        ]
        first = cards[0]
        cards.append(DemoCard(first.key + "-expired", first.name, first.id_number, today - timedelta(days=30)))
        return cards

    def read(self, device, form, nonce: str | None) -> CardReading:
        if current_app.config.get("ENV_NAME") != "development" and not current_app.testing:
            raise ReadingRefused(_l("开发用读卡器只能在开发环境中使用。"), "development_reader")
        key = form.get("card", "")
        card = next((c for c in self.cards() if c.key == key), None)
        if card is None:
            raise ReadingRefused(_l("未读到身份证，请将身份证平放在读卡区后重试。"), "no_card")
        return CardReading(card.id_number, card.name, card.valid_until)


class SignedReader:
    name = "signed"
    signed = True

    def cards(self) -> list[DemoCard]:
        return []

    def read(self, device, form, nonce: str | None) -> CardReading:
        from joserfc import jws
        from joserfc.errors import JoseError
        from joserfc.jwk import ECKey

        raw = form.get("reading", "")
        if not raw or len(raw) > 4096:
            raise ReadingRefused(_l("未读到身份证，请将身份证平放在读卡区后重试。"), "no_card")
        if not device.reader_key_pem:
            raise ReadingRefused(_l("本终端未登记读卡器，请联系大厅工作人员。"), "no_reader_key")
        try:
            verified = jws.deserialize_compact(raw, ECKey.import_key(device.reader_key_pem), algorithms=["ES256"])
            claims = json.loads(verified.payload)
        except (JoseError, ValueError, TypeError):
            raise ReadingRefused(_l("读卡结果未通过校验，请重新读卡。"), "bad_signature") from None
        now = clock.now().timestamp()
        if (
            not isinstance(claims, dict)
            or claims.get("aud") != f"kiosk:{device.id}"
            or not nonce
            or claims.get("nonce") != nonce
            or not isinstance(claims.get("iat"), int | float)
            or not now - MAX_AGE <= claims["iat"] <= now + 30
        ):
            raise ReadingRefused(_l("读卡结果已失效，请重新读卡。"), "stale_reading")
        try:
            valid_until = date.fromisoformat(claims["valid_until"]) if claims.get("valid_until") else None
            return CardReading(str(claims["id_number"]), str(claims["name"]).strip(), valid_until)
        except (KeyError, ValueError, TypeError):
            raise ReadingRefused(_l("读卡结果不完整，请重新读卡。"), "incomplete") from None


READERS = {"development": DevelopmentReader, "signed": SignedReader}


def reader():
    return READERS[current_app.config["KIOSK_CARD_READER"]]()
