"""Notices to people: in the platform (with an unread badge), by e-mail and by SMS."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, false, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import pii
from ..core.extensions import db
from ..core.models_base import UTCDateTime, utcnow
from ..identity.models import Person


class Notice(db.Model):
    """One notice. Its words are rendered when shown (in the reader's language) from `kind` and
    `params`, so a notice made during a clerk's English session still reads in Chinese."""

    __tablename__ = "notices"
    __table_args__ = (  # the worker's queue: only the few rows still to send are in it
        Index("ix_notices_queued", "id", postgresql_where=text("queued"), sqlite_where=text("queued")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), nullable=False, index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)  # case.<action> | consultation.answered
    params: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    url: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # sent | logged | failed | no_address | off (None: not tried yet)
    email_status: Mapped[str | None] = mapped_column(String(16))
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # SMS: queued | accepted | delivered | failed | logged | no_phone | off (None: not tried yet)
    sms_status: Mapped[str | None] = mapped_column(String(16))
    sms_id: Mapped[str | None] = mapped_column(String(64), index=True)  # the gateway's message id
    sms_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the last status change
    # still to be e-mailed and texted: set in the transaction that makes the notice, cleared in the
    # one that records the sending (notify.delivery.deliver_queued), so none is lost to a broker
    queued: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), nullable=False)

    recipient: Mapped[Person] = relationship()


class NoticeSettings(db.Model):
    """Where a person wants e-mail notices (the address is personal data: encrypted)."""

    __tablename__ = "notice_settings"
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    email_enc: Mapped[str | None] = mapped_column(Text)
    email_enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    # SMS: a phone of the person's own choosing (else the one the login gave), on by default
    phone_enc: Mapped[str | None] = mapped_column(Text)
    sms_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true(), nullable=False)

    @property
    def email(self) -> str | None:
        return pii.decrypt(self.email_enc)

    @property
    def phone(self) -> str | None:
        return pii.decrypt(self.phone_enc)
