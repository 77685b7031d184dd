"""The dunning ladder: stages in order of severity, their words and next steps."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

STAGES = ("reminder", "contact", "visit", "demand", "legal")

STAGE_LABELS = {
    "reminder": _l("Reminder"),
    "contact": _l("Contact"),
    "visit": _l("Door visit"),
    "demand": _l("Demand letter"),
    "legal": _l("Legal"),
}

NEXT_STEPS = {
    "reminder": _l("Send a gentle reminder by text or WeChat; most households simply forgot."),
    "contact": _l("Call for a friendly conversation and find out why the household is behind."),
    "visit": _l("Visit the door: record the reason, and agree a payment date or plan."),
    "demand": _l("Deliver a formal demand letter, and photograph the delivery."),
    "legal": _l("Prepare a lawyer's letter: check the evidence file with your supervisor first."),
}


def stage_rank(stage: str) -> int:
    """Higher is more severe; unknown stages sort with the mildest."""
    return STAGES.index(stage) if stage in STAGES else 0


def severity_rank(stage: str | None) -> int:
    """How severe a stage is, by the stage alone (1 reminder ... 5 legal; 0 for none),
    so that units of communities with different day thresholds sort together: by
    stage first, then arrears. An unknown stage sorts with the mildest."""
    if stage is None:
        return 0
    return stage_rank(stage) + 1


def severity_order(stage: str | None, arrears_fen: int, unit_id: int) -> tuple[int, int, int]:
    """Route list order as a sort key: most severe stage, then most arrears, then id."""
    return (-severity_rank(stage), -arrears_fen, unit_id)


def stage_label(stage: str):
    return STAGE_LABELS.get(stage, stage)


def next_step(stage: str):
    return NEXT_STEPS.get(stage, "")


def escalated(stage: str, steps: int) -> str:
    """The stage `steps` rungs up the ladder (a broken promise), at most the top."""
    return STAGES[min(stage_rank(stage) + max(steps, 0), len(STAGES) - 1)]


def next_stage(stage: str, promise_status: str | None, broken_steps: int) -> str:
    """What to do next: the band's stage, raised when the last promise was broken."""
    return escalated(stage, broken_steps) if promise_status == "broken" else stage


# The notice each stage usually leaves at the door: the visit form suggests it.
SUGGESTED_NOTICE = {"reminder": "reminder", "contact": "reminder", "visit": "payment_notice",
                    "demand": "demand_letter", "legal": "lawyer_letter"}


def suggested_notice(stage: str | None) -> str:
    return SUGGESTED_NOTICE.get(stage or "", "reminder")
