"""Cross-domain reactions: the domain that changes state sends, others listen."""

from blinker import Namespace

_signals = Namespace()

# Sent inside a case transition's transaction, before its commit, for rows that must be written
# with it (the applicant's notice): sender=app, case=<Case>, action=..., note=...
# Listeners add rows and never commit.
case_transitioning = _signals.signal("case-transitioning")

# Sent after a case transition is committed: sender=app, case_id=..., action=...
case_transitioned = _signals.signal("case-transitioned")

# Sent by the certificates domain once an approved case's result (its certificate, or the decision
# letter) is issued and committed, or found issued already: sender=app, case_id=..., note=...
# The cases domain completes the case (办结); certificates do not call cases back.
case_result_issued = _signals.signal("case-result-issued")

# Sent after a department answers an online consultation (网上咨询): sender=app, consultation_id=...
consultation_answered = _signals.signal("consultation-answered")

# Sent inside a transaction that needs people told (电子监察 cards and 督办 to staff, a bundle's
# member refused to its applicant, ...): sender=app, recipients=[(person_id, endpoint, url values)],
# kind="card.issued" | ..., params={...}. The notify domain adds one notice per recipient to the
# same transaction; listeners never commit.
people_alerted = _signals.signal("people-alerted")

# Sent after a certificate is issued or changes status, committed: sender=app, certificate_id=...,
# action=issue | suspend | resume | revoke | supersede (the holder's notice listens)
certificate_changed = _signals.signal("certificate-changed")

# Sent by the expiry timer inside its transaction, for each certificate that expires soon (the
# holder's notice is written with the mark that it was sent): sender=app, certificate=<Certificate>,
# days_left=... Listeners add rows and never commit.
certificate_expiring = _signals.signal("certificate-expiring")

# Sent after that transaction is committed (the e-mails): sender=app
certificate_expiry_noticed = _signals.signal("certificate-expiry-noticed")

# Sent by the session store when the session could not be saved (its store is down), before the
# response goes out: sender=app, response=<the response built>. ops.faults turns it into the 503
# page (whatever the response promised, e.g. a sign-in redirect carrying state, would not work).
session_unsaved = _signals.signal("session-unsaved")
