"""Applications (办件), their events and attachments."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..catalog.models import ServiceItem
from ..core import clock, pii
from ..core.extensions import db
from ..core.models_base import UTCDateTime, utcnow
from ..identity.models import Department, Person
from . import statemachine

# The states in which a case is open under (or waiting for) the clock; the lists' partial index.
OPEN_STATES = ("submitted", "supplement_requested", "accepted", "in_review", "approved")
_OPEN = "state IN ('submitted', 'supplement_requested', 'accepted', 'in_review', 'approved')"
_TO_HAND_OVER = "state = 'completed' AND channel = 'window' AND handed_over_at IS NULL"


class Case(db.Model):
    __tablename__ = "cases"
    # The lists' indexes (migration 0620), each for one list's filter and order:
    # 我的办件 (applicant, id); the window's queues (state, submitted_at, id); the inboxes and
    # supervision's overdue and due-soon lists (deadline, id) over open cases only, so a walk
    # by deadline never crosses the million closed ones; 待出件 (completed_at, id); and the
    # dashboard's counts and timings, read from the index alone (state first: the timings read
    # the completed cases only).
    __table_args__ = (
        UniqueConstraint("applicant_id", "idempotency_key"),
        Index("ix_cases_applicant_id_id", "applicant_id", "id"),
        Index("ix_cases_state_submitted_at", "state", "submitted_at", "id"),
        Index("ix_cases_open_deadline", "deadline", "id", postgresql_where=text(_OPEN), sqlite_where=text(_OPEN)),
        Index(
            "ix_cases_to_hand_over",
            "completed_at",
            "id",
            postgresql_where=text(_TO_HAND_OVER),
            sqlite_where=text(_TO_HAND_OVER),
        ),
        Index(
            "ix_cases_figures",
            "state",
            "department_id",
            "submitted_at",
            "item_id",
            "channel",
            "working_days",
            "on_time",
        ),
        # 热门事项 (migration 08410): the last 90 days' submissions by item, from the index alone
        Index("ix_cases_submitted_at_item", "submitted_at", "item_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("service_items.id"), nullable=False)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)  # online | window
    state: Mapped[str] = mapped_column(String(32), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    idempotency_key: Mapped[str] = mapped_column(String(64), nullable=False)
    form_data_enc: Mapped[str] = mapped_column(Text, nullable=False)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline: Mapped[date | None] = mapped_column(Date)
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision: Mapped[str | None] = mapped_column(String(16))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enterprise_id: Mapped[int | None] = mapped_column(
        ForeignKey("enterprises.id"), index=True
    )  # identity (migration 0101): filed for this enterprise
    # Workflow and clock: the stage under review, the day a supplement request
    # paused the clock (None while it runs), the working days paused so far, and 出件.
    current_stage: Mapped[int | None] = mapped_column(Integer)
    paused_since: Mapped[date | None] = mapped_column(Date)
    paused_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when a case accepted under the clock completes: its working days from acceptance to
    # completion less those paused, and whether it was done by its deadline. A completed case
    # never changes again, so supervision sums these instead of counting days case by case.
    working_days: Mapped[int | None] = mapped_column(Integer)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    handed_over_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    # Front office (migration 0201): where each pre-filled answer came from
    # (field -> login | population | legal_person | applicant).
    field_sources: Mapped[dict | None] = mapped_column(JSON)
    # Access (migration 08210): the hall whose window filed the case (None: online);
    # its clerks are the window that sees it (govservice/access).
    hall_id: Mapped[int | None] = mapped_column(ForeignKey("service_halls.id"))

    item: Mapped[ServiceItem] = relationship()
    applicant: Mapped[Person] = relationship(foreign_keys=[applicant_id])
    handed_over_by: Mapped[Person | None] = relationship(foreign_keys=[handed_over_by_id])
    department: Mapped[Department | None] = relationship()
    events: Mapped[list[CaseEvent]] = relationship(back_populates="case", order_by="CaseEvent.id")
    attachments: Mapped[list[Attachment]] = relationship(back_populates="case", order_by="Attachment.id")
    certificate_materials: Mapped[list[CertificateMaterial]] = relationship(
        back_populates="case", order_by="CertificateMaterial.id"
    )
    steps: Mapped[list[CaseStep]] = relationship(back_populates="case", order_by="(CaseStep.stage, CaseStep.id)")
    supplement_requests: Mapped[list[SupplementRequest]] = relationship(
        back_populates="case", order_by="SupplementRequest.id"
    )
    documents: Mapped[list[CaseDocument]] = relationship(back_populates="case", order_by="CaseDocument.id")
    opinions: Mapped[list[CaseOpinion]] = relationship(back_populates="case", order_by="CaseOpinion.id")

    @property
    def form_data(self) -> dict:
        return pii.decrypt_json(self.form_data_enc)


class CaseEvent(db.Model):
    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="events")
    actor: Mapped[Person | None] = relationship()

    @property
    def label(self) -> str:
        """What the timeline shows: the new state, or the action where the state stays."""
        if self.from_state == self.to_state and self.action in statemachine.TRANSITIONS:
            return str(statemachine.TRANSITIONS[self.action].label)
        return statemachine.label(self.to_state)


class Attachment(db.Model):
    """An uploaded material; the bytes live in blob storage, outside the web root."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    material_code: Mapped[str] = mapped_column(String(64), nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    blob_key: Mapped[str] = mapped_column(String(255), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    case: Mapped[Case] = relationship(back_populates="attachments")


# --- Workflow, supplements, documents and the calendar --------------------------


class CaseStep(db.Model):
    """One department's part in one stage of a case's workflow (审查环节).

    The item's `[[workflow]]` steps are flattened into stages at acceptance: a sequential step
    of departments [a, b] becomes two stages, a joint step (并联) one stage where every
    department decides. `version` guards the department's page against being stale.
    """

    __tablename__ = "case_steps"
    # The inbox reads a department's open steps: (department, status, case) (migration 0620).
    __table_args__ = (
        UniqueConstraint("case_id", "stage", "department_id"),
        Index("ix_case_steps_inbox", "department_id", "status", "case_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    stage: Mapped[int] = mapped_column(Integer, nullable=False)
    mode: Mapped[str] = mapped_column(String(16), nullable=False)  # sequential | joint
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), nullable=False)
    # waiting (a later stage) | pending | in_review | approved | denied | returned | skipped
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opinion: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="steps")
    department: Mapped[Department] = relationship()
    claimed_by: Mapped[Person | None] = relationship(foreign_keys=[claimed_by_id])
    decided_by: Mapped[Person | None] = relationship(foreign_keys=[decided_by_id])


class CaseOpinion(db.Model):
    """An officer's recorded opinion (审查意见): a working note, or the reason of a decision."""

    __tablename__ = "case_opinions"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    step_id: Mapped[int | None] = mapped_column(ForeignKey("case_steps.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # note | approve | deny | supplement
    text: Mapped[str] = mapped_column(Text, nullable=False)

    case: Mapped[Case] = relationship(back_populates="opinions")
    step: Mapped[CaseStep | None] = relationship()
    author: Mapped[Person] = relationship()


class SupplementRequest(db.Model):
    """一次性告知补正: everything missing or defective, each with its reason, and a deadline."""

    __tablename__ = "supplement_requests"
    # The lapse timer's walk (migration 08110): unanswered requests by due date.
    __table_args__ = (
        Index(
            "ix_supplement_requests_pending_due",
            "due",
            "id",
            sqlite_where=text("answered_at IS NULL"),
            postgresql_where=text("answered_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    origin: Mapped[str] = mapped_column(String(16), nullable=False)  # window | department
    step_id: Mapped[int | None] = mapped_column(ForeignKey("case_steps.id"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    due: Mapped[date] = mapped_column(Date, nullable=False)
    # [{"material": code or "", "name": "...", "reason": "..."}]
    items: Mapped[list] = mapped_column(JSON, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    answer_note: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="supplement_requests")
    step: Mapped[CaseStep | None] = relationship()
    requested_by: Mapped[Person] = relationship(foreign_keys=[requested_by_id])
    answered_by: Mapped[Person | None] = relationship(foreign_keys=[answered_by_id])

    @property
    def pending(self) -> bool:
        return self.answered_at is None

    @property
    def overdue(self) -> bool:
        """Unanswered past its deadline (Beijing date)."""
        return self.pending and clock.today() > self.due


class CaseDocument(db.Model):
    """A notice issued to the applicant (受理通知书, 一次性告知书, 不予受理决定书), its content
    kept as issued; the PDF is rendered from it, identically, whenever it is printed."""

    __tablename__ = "case_documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # acceptance | supplement | refusal
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    content: Mapped[dict] = mapped_column(JSON, nullable=False)

    case: Mapped[Case] = relationship(back_populates="documents")
    issued_by: Mapped[Person | None] = relationship()


class CertificateMaterial(db.Model):
    """免提交: a material the applicant did not upload because they hold the certificate that
    replaces it. Recorded at submission; the window checks it is still valid at
    acceptance."""

    __tablename__ = "case_certificate_materials"
    __table_args__ = (UniqueConstraint("case_id", "material_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    material_code: Mapped[str] = mapped_column(String(64), nullable=False)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"), nullable=False, index=True)
    certificate_identifier: Mapped[str] = mapped_column(String(128), nullable=False)
    type_code: Mapped[str] = mapped_column(String(64), nullable=False)
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    case: Mapped[Case] = relationship(back_populates="certificate_materials")
    certificate = relationship("Certificate")


class ApplicationDraft(db.Model):
    """An application saved before submission (草稿), to resume later. Answers are
    encrypted; files already uploaded stay in blob storage and are listed in `files`."""

    __tablename__ = "application_drafts"
    __table_args__ = (Index("ix_application_drafts_applicant_updated", "applicant_id", "updated_at", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), nullable=False)
    item_id: Mapped[int] = mapped_column(ForeignKey("service_items.id"), nullable=False)
    item_code: Mapped[str] = mapped_column(String(64), nullable=False)
    enterprise_uscc: Mapped[str | None] = mapped_column(String(18))
    data_enc: Mapped[str] = mapped_column(Text, nullable=False)
    # material code -> id of the certificate offered instead (免提交)
    certificates: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    # material code -> {filename, content_type, size, sha256, blob_key}
    files: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    item: Mapped[ServiceItem] = relationship()
    applicant: Mapped[Person] = relationship()

    @property
    def data(self) -> dict:
        return pii.decrypt_json(self.data_enc)
