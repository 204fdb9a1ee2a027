"""Cross-domain reactions: the domain that changes state sends, others listen."""
from blinker import Namespace

_signals = Namespace()

# Sent inside a case transition's transaction, before its commit, for rows that must be written
# with it (the applicant's notice): sender=app, case=<Case>, action=..., note=...
# Listeners add rows and never commit.
case_transitioning = _signals.signal("case-transitioning")

# Sent after a case transition is committed: sender=app, case_id=..., action=...
case_transitioned = _signals.signal("case-transitioned")

# Sent after a department answers an online consultation (网上咨询): sender=app, consultation_id=...
consultation_answered = _signals.signal("consultation-answered")

# Sent inside a transaction that needs staff told (电子监察 cards, 督办, their replies): sender=app,
# recipients=[(person_id, endpoint of the page to open)], kind="card.issued" | ..., params={...}.
# The notify domain adds one notice per recipient to the same transaction; listeners never commit.
staff_alerted = _signals.signal("staff-alerted")
