"""自助终端: registering and enrolling terminals, proving a terminal on each request, signing a
person in by ID card and out again, and recording what the terminal printed. Each business
action audits and commits once; nothing here reads the request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..audit import services as audit
from ..catalog import services as catalog
from ..core import clock
from ..core.extensions import db
from ..identity.idnumbers import InvalidNumber, normalise_id_number
from ..identity.models import Person, ServiceHall
from ..identity.services import person_for
from ..security.text import clean_text
from .models import KioskDevice
from .readers import CardReading, ReadingRefused, reader  # noqa: F401

#: A one-time enrollment code is good for this long after registration.
ENROLLMENT_HOURS = 24
#: The level of assurance of a sign-in by ID card at a registered terminal.
KIOSK_LEVEL = 2
#: A device's last contact is written at most this often.
SEEN_EVERY = timedelta(minutes=1)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a screen, typed on a touch screen


class KioskError(Exception):
    def __init__(self, message, reason: str = "refused"):
        super().__init__(str(reason))
        self.message = message
        self.reason = reason


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def init_app(app) -> None:
    import os

    development = app.config.get("ENV_NAME", "development") == "development"
    app.config.setdefault(
        "KIOSK_CARD_READER", os.environ.get("KIOSK_CARD_READER", "development" if development else "signed")
    )
    app.config.setdefault("KIOSK_IDLE_SECONDS", int(os.environ.get("KIOSK_IDLE_SECONDS", "60")))
    if app.config["KIOSK_CARD_READER"] not in ("development", "signed"):
        raise SystemExit("govservice: configuration error: KIOSK_CARD_READER must be development or signed")


# --- terminals (终端登记) ----------------------------------------------------------------------


def devices() -> list[KioskDevice]:
    return list(db.session.execute(select(KioskDevice).order_by(KioskDevice.id)).scalars())


def halls() -> list[ServiceHall]:
    return list(db.session.execute(select(ServiceHall).order_by(ServiceHall.id)).scalars())


def _enrollment_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return "-".join(raw[i : i + 4] for i in (0, 4, 8))


def _check_reader_key(pem: str) -> str | None:
    pem = (pem or "").strip()
    if not pem:
        return None
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(pem.encode())
    except ValueError:
        raise KioskError(_l("读卡器公钥不是有效的 PEM 公钥。"), "reader_key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise KioskError(_l("读卡器公钥须为 P-256（ES256）椭圆曲线公钥。"), "reader_key")
    return pem


def register(admin: Person | None, name: str, hall_id, reader_key_pem: str = "") -> tuple[KioskDevice, str]:
    """登记终端: the terminal and its one-time enrollment code (shown once, stored as a hash).
    `admin` None: the server's operator, on the command line (`flask kiosk register`)."""
    if admin is not None and not admin.has_role("admin"):
        raise KioskError(_l("只有系统管理员可以登记自助终端。"), "role")
    name = clean_text(name or "")
    if not 2 <= len(name) <= 100:
        raise KioskError(_l("请填写终端名称（2至100字），例如“一层大厅 1号机”。"), "name")
    hall = db.session.get(ServiceHall, int(hall_id)) if str(hall_id or "").isdigit() else None
    if hall is None:
        raise KioskError(_l("请选择终端所在的服务大厅。"), "hall")
    pem = _check_reader_key(reader_key_pem)
    code = _enrollment_code()
    now = clock.now()
    device = KioskDevice(
        name=name,
        hall=hall,
        enrollment_hash=_digest(code.replace("-", "")),
        enrollment_expires_at=now + timedelta(hours=ENROLLMENT_HOURS),
        reader_key_pem=pem,
        registered_by=admin,
        registered_at=now,
    )
    db.session.add(device)
    db.session.flush()
    audit.record(
        "kiosk.register",
        actor=admin,
        subject=f"kiosk:{device.id}",
        detail={"name": name, "hall": hall.code, "reader_key": pem is not None},
    )
    db.session.commit()
    return device, code


def enroll(raw_code: str) -> tuple[KioskDevice, str]:
    """启用终端 at the device: the one-time code, once, before it expires, gives the device its
    secret (the cookie value "<id>.<secret>"; only its hash is kept)."""
    code = "".join(ch for ch in (raw_code or "").upper() if ch in CODE_ALPHABET)[:12]
    device = (
        db.session.execute(select(KioskDevice).where(KioskDevice.enrollment_hash == _digest(code))).scalar_one_or_none()
        if len(code) == 12
        else None
    )
    if device is None or device.revoked_at is not None or device.enrollment_expires_at <= clock.now():
        raise KioskError(_l("启用码无效或已过期，请向系统管理员重新获取。"), "code")
    secret = secrets.token_urlsafe(32)
    device.secret_hash = _digest(secret)
    device.enrollment_hash = None
    device.enrollment_expires_at = None
    device.enrolled_at = device.last_seen_at = clock.now()
    audit.record("kiosk.enroll", subject=f"kiosk:{device.id}", detail={"name": device.name, "hall": device.hall.code})
    db.session.commit()
    return device, f"{device.id}.{secret}"


def authenticate(credential: str | None) -> KioskDevice | None:
    """The enrolled, unrevoked terminal whose secret this is; None otherwise. Its last contact is
    recorded (at most once a minute)."""
    if not credential or len(credential) > 200 or "." not in credential:
        return None
    device_id, secret = credential.split(".", 1)
    device = db.session.get(KioskDevice, int(device_id)) if device_id.isdigit() else None
    if device is None or device.revoked_at is not None or device.secret_hash is None:
        return None
    if not hmac.compare_digest(device.secret_hash, _digest(secret)):
        return None
    now = clock.now()
    if device.last_seen_at is None or now - device.last_seen_at >= SEEN_EVERY:
        device.last_seen_at = now
        db.session.commit()
    return device


def revoke(admin: Person | None, device_id: int) -> KioskDevice:
    """停用终端: refused from its next request on; whoever is signed in there is signed out.
    `admin` None: the server's operator, on the command line."""
    if admin is not None and not admin.has_role("admin"):
        raise KioskError(_l("只有系统管理员可以停用自助终端。"), "role")
    device = db.session.get(KioskDevice, device_id)
    if device is None:
        raise KioskError(_l("没有这台终端。"), "missing")
    if device.revoked_at is None:
        device.revoked_at = clock.now()
        device.secret_hash = device.enrollment_hash = None
        audit.record("kiosk.revoke", actor=admin, subject=f"kiosk:{device.id}", detail={"name": device.name})
        db.session.commit()
    return device


# --- signing in by ID card (刷身份证登录) -----------------------------------------------------


def sign_in(device: KioskDevice, reading: CardReading) -> Person:
    """The card's holder, checked against the population registry (人口库): the card must be
    valid and its number and name those the registry holds. Refusals are audited too."""
    from ..registry import services as registry

    def refuse(message, reason):
        audit.record("kiosk.sign_in_refused", subject=f"kiosk:{device.id}", detail={"reason": reason})
        db.session.commit()
        raise KioskError(message, reason)

    try:
        number = normalise_id_number(reading.id_number)
    except InvalidNumber:
        refuse(_l("身份证号码无法识别，请重新读卡或到综合窗口办理。"), "invalid_number")
    if reading.valid_until is not None and reading.valid_until < clock.today():
        refuse(_l("该身份证已过有效期，请使用有效的身份证，或到综合窗口办理。"), "expired")
    try:
        record = registry.person(number, purpose="自助终端刷身份证登录")
    except registry.RegistryUnavailable:
        refuse(_l("暂时无法核验身份（人口基础信息库未响应），请稍后再试或到综合窗口办理。"), "registry_unavailable")
    if record is None:
        refuse(_l("人口基础信息库中没有该身份证号码，请到综合窗口办理。"), "unknown")
    if record.name != reading.name.strip():
        refuse(_l("证件信息与人口基础信息库不一致，请到综合窗口核实。"), "name_mismatch")
    person = person_for(number, record.name)
    person.last_login_at = clock.now()
    audit.record(
        "identity.sign_in",
        actor=person,
        subject=f"person:{person.id}",
        detail={"provider": f"kiosk:{device.id}", "level": KIOSK_LEVEL, "hall": device.hall.code},
    )
    db.session.commit()
    return person


def sign_out(person: Person | None, device: KioskDevice | None, reason: str) -> None:
    """退出 (the button) or 自动退出 (a minute idle, or the terminal revoked)."""
    if person is None:
        return
    audit.record(
        "kiosk.sign_out",
        actor=person,
        subject=f"kiosk:{device.id}" if device else None,
        detail={"reason": reason},
    )
    db.session.commit()


def record_print(person: Person, device: KioskDevice, what: str, subject: str, case_id: int | None = None) -> None:
    """打印回执 / 打印证照 at the terminal: each print in the audit log."""
    audit.record(
        "kiosk.print",
        actor=person,
        subject=subject,
        case_id=case_id,
        detail={"what": what, "kiosk": device.id, "hall": device.hall.code},
    )
    db.session.commit()


# --- what a terminal offers ----------------------------------------------------------------


def items() -> list:
    """The items a person can apply for at a terminal: their own (not an enterprise's) and at a
    level of assurance the card sign-in reaches."""
    return [
        i
        for i in catalog.list_items()
        if i.audience in ("person", "both") and (i.level_of_assurance or 1) <= KIOSK_LEVEL
    ]


def idle_seconds() -> int:
    return int(current_app.config["KIOSK_IDLE_SECONDS"])
