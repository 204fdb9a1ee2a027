"""Server-side sessions: a new id at sign-in, idle (30 min, staff 15) and absolute (12 h)
timeouts measured on the platform's clock, sign out everywhere, cookie flags, and the two
stores (database, Redis) behaving alike."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from govservice.core.extensions import db
from govservice.identity import sessions
from govservice.identity.models import WebSession

from .helpers import audit_entries, page

COOKIE = "session"


def _sid(client) -> str | None:
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def _signed_in(client) -> bool:
    return client.get("/auth/me").status_code == 200


def test_signed_out_pages_store_no_session(client):
    # issue 14's public pages too: 一件事, published answers, 政务公开 and the open data
    for path in (
        "/",
        "/auth/login",
        "/items/",
        "/bundles/",
        "/petitions/published",
        "/open/",
        "/open/items/scjgj-gtgsh-sldj",
        "/open/licences",
        "/open/data/",
        "/open/data/monthly.csv",
        "/open/data/monthly.json",
        "/open/data/datapackage.json",
    ):
        assert client.get(path).status_code == 200, path
        assert _sid(client) is None, path


#: GET routes that begin something which needs a session, so they may start one.
STARTS_A_SESSION = {"identity.start"}  # the sign-in: its state, nonce and PKCE verifier


def test_no_signed_out_page_stores_a_session_in_either_store(app):
    """Every GET route, opened signed out (a crawler): no cookie, no row in the sessions table,
    no key in Redis; pages that need a sign-in send to the login page and store nothing either."""
    from .test_role_matrix import _url

    known = {"code": "scjgj-gtgsh-sldj", "hall_code": "cy-zwfwzx"}
    walked, problems = 0, []
    with app.app_context():
        rows_before = db.session.execute(db.select(db.func.count()).select_from(WebSession)).scalar_one()
    prefix = app.config["SESSION_KEY_PREFIX"]
    for rule in app.url_map.iter_rules():
        if (
            "GET" not in rule.methods
            or rule.endpoint == "static"
            or rule.endpoint in STARTS_A_SESSION
            or rule.rule.startswith(("/api/", "/oauth/"))
        ):
            continue
        client = app.test_client()
        response = client.get(_url(rule, **{k: v for k, v in known.items() if k in rule.arguments}))
        walked += 1
        if response.status_code >= 500 or _sid(client) is not None:
            problems.append(f"{rule.rule}: {response.status_code}, session cookie {_sid(client)!r}")
    assert walked > 40
    assert not problems, "\n".join(problems)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(WebSession)).scalar_one() == rows_before
    if app.config.get("REDIS_URL"):  # the suite on PostgreSQL + Redis: sessions live there
        import redis

        assert list(redis.Redis.from_url(app.config["REDIS_URL"]).scan_iter(f"{prefix}*")) == []


def test_sign_in_gives_a_new_session_id_and_the_old_one_is_worth_nothing(app, client, login):
    client.get("/auth/login/devidp")  # the sign-in starts: its state and nonce are kept in a session
    before = _sid(client)
    assert before
    login(client, "张三")
    after = _sid(client)
    assert after and after != before
    planted = app.test_client()
    planted.set_cookie(COOKIE, before)
    assert not _signed_in(planted)
    with app.app_context():
        assert sessions.store().load(sessions.key_of(before)) is None


def test_the_cookie_is_httponly_and_samesite_lax_and_holds_only_a_random_id(app, client, login):
    response = login(client, "张三")
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{COOKIE}="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert len(_sid(client)) == 43 and "." not in _sid(client)


@pytest.mark.parametrize("app_config", [{"SESSION_COOKIE_SECURE": True}])
def test_the_cookie_is_secure_outside_development(client, login, app_config):
    response = login(client, "张三")
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{COOKIE}="))
    assert "Secure" in cookie


def test_production_settings_make_the_cookie_secure(monkeypatch):
    from govservice.core.config import from_environment

    monkeypatch.setenv("GOVSERVICE_ENV", "production")
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    assert from_environment("/tmp")["SESSION_COOKIE_SECURE"] is True


def test_what_the_session_holds_is_stored_encrypted_under_a_hash_of_the_id(app, client, login):
    login(client, "张三")
    with app.app_context():
        record = sessions.store().load(sessions.key_of(_sid(client)))
        assert record is not None and record.person_id is not None
        assert "110105198802150035" not in record.data and "dev-zhangsan" not in record.data
        if isinstance(sessions.store(), sessions.DatabaseStore):
            keys = [k for (k,) in db.session.execute(db.select(WebSession.key))]
            assert sessions.key_of(_sid(client)) in keys and _sid(client) not in keys


def test_a_citizen_is_signed_out_after_30_idle_minutes(app, client, login, clock):
    login(client, "张三")
    for _ in range(3):  # activity keeps the session alive...
        clock.advance(minutes=29)
        assert _signed_in(client)
    clock.advance(minutes=30, seconds=1)  # ...inactivity ends it
    response = client.get("/auth/me")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert "您长时间未操作，为保护您的信息已自动退出，请重新登录。" in page(client.get("/auth/login"))


def test_staff_are_signed_out_after_15_idle_minutes(app, login, clock):
    clerk, citizen = app.test_client(), app.test_client()
    login(clerk, "赵敏")
    login(citizen, "张三")
    clock.advance(minutes=14)
    assert _signed_in(clerk)
    clock.advance(minutes=15, seconds=1)
    assert not _signed_in(clerk)
    assert _signed_in(citizen)


def test_everyone_signs_in_again_after_12_hours(app, client, login, clock):
    login(client, "张三")
    for _ in range(12 * 3 - 1):
        clock.advance(minutes=20)
        assert _signed_in(client)
    clock.advance(minutes=20)
    assert not _signed_in(client)
    login(client, "张三")
    assert _signed_in(client)


def test_the_absolute_limit_is_explained(app, client, login, clock):
    login(client, "张三")
    with app.app_context():  # a session used all day long: only its age ends it
        store, key = sessions.store(), sessions.key_of(_sid(client))
        record = store.load(key)
        record.created_at -= timedelta(hours=12)
        store.save(key, record, sessions.absolute_seconds(app))
    assert client.get("/auth/me").status_code == 302
    assert "您已超过12小时未重新登录" in page(client.get("/auth/login"))


def test_sign_out_everywhere_ends_every_session_of_the_person_at_once(app, login):
    laptop, phone, someone_else = app.test_client(), app.test_client(), app.test_client()
    login(laptop, "张三")
    login(phone, "张三")
    login(someone_else, "李娜")
    account = page(laptop.get("/auth/me"))
    assert account.count("<tr><td>") >= 2 and "当前设备" in account
    response = laptop.post("/auth/sessions/end-all", follow_redirects=True)
    assert "已在所有设备上退出登录（共2处）" in page(response)
    assert not _signed_in(laptop) and not _signed_in(phone)
    assert _signed_in(someone_else)
    assert [e[2]["sessions"] for e in audit_entries(app, "identity.sign_out_everywhere")] == [2]


def test_sign_out_deletes_the_session(app, client, login):
    login(client, "张三")
    sid = _sid(client)
    client.post("/auth/logout")
    with app.app_context():
        assert sessions.store().load(sessions.key_of(sid)) is None
    assert not _signed_in(client)


def test_browsing_without_signing_in_keeps_no_personal_session(app, client):
    client.get("/items/")
    with app.app_context():
        record = sessions.store().load(sessions.key_of(_sid(client))) if _sid(client) else None
        assert record is None or record.person_id is None


# --- the two stores -------------------------------------------------------------------------

STORES = [
    pytest.param("database", id="database"),
    pytest.param(
        "redis",
        id="redis",
        marks=pytest.mark.skipif(
            not os.environ.get("REDIS_URL"), reason="REDIS_URL not set (the PostgreSQL + Redis run covers it)"
        ),
    ),
]


@pytest.mark.parametrize("kind", STORES)
def test_both_stores_keep_find_and_end_sessions_alike(ctx, kind):
    store = (
        sessions.DatabaseStore()
        if kind == "database"
        else sessions.RedisStore(os.environ["REDIS_URL"], prefix="govservice-test:")
    )
    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    made = {}
    for name, person_id, age in [("a", 7001, 0), ("b", 7001, 40), ("c", 7002, 0), ("anon", None, 0)]:
        record = sessions.Record(
            data=f"secret-{name}",
            person_id=person_id,
            created_at=now - timedelta(minutes=age),
            last_seen_at=now - timedelta(minutes=age),
            idle_seconds=1800,
        )
        made[name] = sessions.key_of(f"sid-{name}-{kind}")
        store.save(made[name], record, 12 * 3600)
    loaded = store.load(made["a"])
    assert (loaded.data, loaded.person_id, loaded.created_at, loaded.idle_seconds) == ("secret-a", 7001, now, 1800)
    assert sorted(store.for_person(7001)) == sorted([made["a"], made["b"]])
    assert store.load(made["b"]).ended(now, 12 * 3600) == "idle"
    assert store.delete_for_person(7001) == 2
    assert store.load(made["a"]) is None and store.for_person(7001) == {}
    assert store.load(made["c"]) is not None
    store.delete(made["c"], 7002)
    assert store.load(made["c"]) is None and store.for_person(7002) == {}
    store.delete(made["anon"])


def test_a_role_given_mid_session_shortens_the_idle_timeout(app, client, login, clock):
    from govservice.identity import services
    from govservice.identity.models import StaffAssignment

    login(client, "张三")
    with app.app_context():
        person = services.find_person("110105198802150035")
        db.session.add(StaffAssignment(person=person, role="supervisor"))
        db.session.commit()
    assert _signed_in(client)  # the request that notices the role
    clock.advance(minutes=16)
    assert not _signed_in(client)
