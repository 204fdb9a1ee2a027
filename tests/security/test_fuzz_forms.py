"""Hypothesis over every form route: each POST route of the app (and every GET route's query),
signed in as each kind of user, with whatever a form could send (NUL bytes, bidi overrides,
very long text, numbers, dates, nothing): never a server error. Bounded and derandomized; the
suite runs it on SQLite and on PostgreSQL."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..factories import accepted_case
from ..identity.test_role_matrix import ENDS_SESSION, MACHINE_PREFIXES, PERSONAS, _url

#: The field names the app's forms and views read (templates' inputs, request.form/args).
FIELDS = sorted(
    set(
        """absent action actor answer answer_note audience basis case code comment day decision
department draft drafts due email email_enabled enterprise event from id_number identity lang level name next
note note_to_applicant number opinion organisation other_name other_reason page partner public_question publish
purpose q question rating reason remove representative scope state step subject to until version working
agent_id_number agent_name all_items items valid_until idempotency_key business_name phone capital
role hall""".split()
    )
)
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "0",
            "-1",
            "99999999999999999999",
            "2026-02-30",
            "2026-11-23",
            "1",
            "3",
            "abc\x00def",
            "北京\u202e示例\u200b",
            "x" * 5000,
            "../../etc/passwd",
            "<script>alert(1)</script>",
            "110105198802150035",
            "91110105MA01ABCD26",
            "on",
            "approve",
            "deny",
            "en",
            "zh_Hans_CN",
        ]
    ),
)
FORMS = st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=6)
FUZZ = settings(max_examples=3, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))


#: Who fills in the forms under each staff area (the others: a citizen).
AREA_PERSONA = {"/window": "clerk", "/review": "officer", "/supervision": "supervisor", "/admin": "admin"}
ADMIN_ONLY = {"supervision.holidays", "supervision.add_holiday", "supervision.remove_holiday"}


def _persona(rule) -> str:
    if rule.endpoint in ADMIN_ONLY:
        return "admin"
    return next((who for prefix, who in AREA_PERSONA.items() if rule.rule.startswith(prefix + "/")), "citizen")


def test_no_form_input_gives_a_server_error(app, login_as):
    """Every POST route, posted by someone who may use it, a few generated forms each."""
    with app.app_context():
        case = accepted_case()
        known = {
            "number": case.number,
            "code": "scjgj-gtgsh-sldj",
            "hall_code": "cy-zwfwzx",
            "attachment_id": case.attachments[0].id,
            "document_id": case.documents[-1].id,
            "uscc": "91110105MA01ABCD26",
        }
    routes = [
        rule
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and not rule.rule.startswith(MACHINE_PREFIXES) and rule.endpoint not in ENDS_SESSION
    ]
    clients, errors = {}, []
    for rule in sorted(routes, key=lambda r: r.rule):
        who = _persona(rule)
        if who not in clients:
            clients[who] = app.test_client()
            login_as(clients[who], PERSONAS[who])
        client = clients[who]
        url = _url(rule, **{k: v for k, v in known.items() if k in rule.arguments})

        @given(form=FORMS)
        @FUZZ
        def run(form):
            response = client.post(url, data=form)  # noqa: B023
            if response.status_code >= 500:
                errors.append(f"POST {url} as {who} {form!r}: {response.status_code}")  # noqa: B023

        run()
    assert len(routes) > 30
    assert not errors, "\n".join(errors[:20])
