"""Who may see which case, material, notice and certificate: the one place (等级保护 访问控制).

A case (办件) is seen by
  * its applicant, while the case is their own (a person's case); an enterprise's case by the
    enterprise's legal representative and its current agents (经办人) whose grant covers the
    item, whoever of them filed it: an agent whose grant ended sees it no more;
  * the officers of the departments on the case (the lead department and every workflow step);
  * the supervisors of those departments (a supervisor bound to no department oversees all);
  * the window (clerks) of the hall the case was filed at; an online case is the whole
    platform's window queue's, so every clerk (a clerk bound to no hall serves every hall).
System administrators keep the platform, not the cases: they see none.

Its materials (attachments) and notices (受理通知书, 一次性告知书, 不予受理决定书) follow the case.
A bundle application (一件事一次办) is seen by its applicant, the general window, and the staff of
its member cases; a request (诉求, 网上信访) by its requester, the clerk who recorded it, the
officers of the department it is routed to and their supervisors; only those officers handle it.
A certificate (电子证照) is seen whole by its holder (a person, or for an enterprise its
representative and current agents) and by the officers of its issuing department.

`case_for`, `attachment_for` and `document_for` are what views call: they load, check, and
record a staff member's read in the audit log (等级保护: 审计 of every staff read of personal
data); a refusal is an `AccessRefused` (a clear 403 page, audited) and a case that does not
exist a 404, so a stranger learns nothing from the difference between the two only when the
case exists and is not theirs (the number is not secret: it is printed on every notice).
"""

from __future__ import annotations

from .personal_data import PurposeMissing, reveal  # noqa: F401
from .reads import (  # noqa: F401
    attachment_for,
    bundle_for,
    case_for,
    certificate_for,
    document_for,
    petition_for,
    record_read,
)
from .rules import (  # noqa: F401
    Relation,
    bundle_relation,
    case_relation,
    certificate_relation,
    enterprise_relation,
    may_accept_bundle,
    may_handle_petition,
    petition_relation,
    visible_cases,
)
