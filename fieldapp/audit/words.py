"""What each audited action is called, and a line saying what it carried."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..domain.money import format_yuan
from ..domain.workorders import status_label
from ..models import AuditEvent
from ..visits.choices import label

ACTIONS = {
    "visit.create": _l("Visit logged"),
    "complaint.create": _l("Complaint filed"),
    "work_order.filed": _l("Work order opened"),
    "work_order.accept": _l("Work order accepted"),
    "work_order.start": _l("Repair started"),
    "work_order.close": _l("Repair finished"),
    "work_order.reopen": _l("Work order reopened"),
    "work_order.satisfied": _l("Owner satisfied"),
    "work_order.assigned": _l("Work order assigned"),
    "work_order.note": _l("Work order note"),
    "plan.create": _l("Installment plan agreed"),
    "plan.cancel": _l("Installment plan ended"),
    "waiver.request": _l("Waiver requested"),
    "waiver.approved": _l("Waiver approved"),
    "waiver.declined": _l("Waiver declined"),
    "review.approve": _l("Visit approved"),
    "review.send_back": _l("Visit sent back"),
    "review.correct": _l("Visit corrected"),
    "user.sign_in": _l("Signed in"),
    "user.sign_out": _l("Signed out"),
    "user.sign_out_everywhere": _l("Signed out on every device"),
    "user.revoke_sessions": _l("Signed out by an administrator"),
    "user.password_change": _l("Password changed"),
    "user.language": _l("Language changed"),
    "user.route_setting": _l("Route list setting changed"),
    "import.upload": _l("File uploaded for import"),
    "import.buildings": _l("Buildings imported"),
    "import.units": _l("Units imported"),
    "import.contacts": _l("Contacts imported"),
    "import.bills": _l("Bills imported"),
    "import.payments": _l("Payments imported"),
    "import.header_add": _l("Import column name added"),
    "import.header_remove": _l("Import column name removed"),
}

# The filter's groups: an action belongs to the group its prefix names.
KINDS = [("visit", _l("Visits")), ("review", _l("Reviews")), ("plan", _l("Installment plans")),
         ("waiver", _l("Waivers")), ("complaint", _l("Complaints")),
         ("work_order", _l("Repairs")), ("user", _l("Sign-ins and accounts")),
         ("import", _l("Imports"))]


def action_label(action: str) -> str:
    return str(ACTIONS.get(action, action))


def summary(event: AuditEvent) -> str:
    """One line of what the event carried, in the reader's language."""
    d = event.detail or {}
    if event.action == "visit.create":
        return str(_l("%(outcome)s, %(n)s photos", outcome=label("outcome", d.get("outcome")),
                      n=d.get("photos", 0)))
    if event.action.startswith("review.") and d.get("comment"):
        return str(d["comment"])
    if event.action == "review.correct":
        return str(_l("%(n)s photos", n=d.get("photos", 0)))
    if event.action == "complaint.create":
        return label("service_category", d.get("category"))
    if event.action.startswith("work_order.") and d.get("status"):
        return status_label(d["status"])
    if event.action.startswith(("plan.", "waiver.")) and ("total_fen" in d or
                                                          "amount_fen" in d):
        return "¥" + format_yuan(d.get("total_fen", d.get("amount_fen", 0)))
    if "revoked" in d:
        return str(_l("%(n)s sessions ended", n=d["revoked"]))
    if event.action == "user.language":
        return f"{d.get('before') or '—'} → {d.get('after')}"
    if event.action.startswith("import.") and "file" in d:
        return str(_l("%(file)s, %(rows)s rows", file=d["file"], rows=d.get("rows", "—")))
    if event.action.startswith("import.header"):
        return f"{d.get('alias')} → {d.get('field')}"
    if event.action == "user.sign_in" and d.get("address"):
        return str(d["address"])
    return ""
