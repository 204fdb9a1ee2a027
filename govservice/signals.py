"""Cross-domain reactions: the domain that changes state sends, others listen."""
from blinker import Namespace

_signals = Namespace()

# Sent after a case transition is committed: sender=app, case_id=..., action=..., actor_id=...
case_transitioned = _signals.signal("case-transitioned")

# Sent after a department answers an online consultation (网上咨询): sender=app, consultation_id=...
consultation_answered = _signals.signal("consultation-answered")
