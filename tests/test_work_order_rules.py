"""The work order state machine as plain functions: who may do what in which state, and
the words each state, event and refusal is shown with."""
from __future__ import annotations

import pytest

from fieldapp.domain.workorders import (
    EVENT_LABELS,
    WorkOrderRefused,
    check_action,
    event_label,
    status_label,
)
from fieldapp.models import Role, WorkOrder, WorkOrderStatus

from .conftest import has_chinese

S = WorkOrderStatus


def user(role: Role, user_id: int):
    return type("U", (), {"role": role, "id": user_id})()


ENGINEER = user(Role.ENGINEER, 7)
OTHER_ENGINEER = user(Role.ENGINEER, 8)
SUPERVISOR = user(Role.SUPERVISOR, 9)
ADMIN = user(Role.ADMIN, 11)
HOUSEKEEPER = user(Role.HOUSEKEEPER, 10)


def order(status: S, engineer_id: int | None = None) -> WorkOrder:
    return WorkOrder(status=status, engineer_id=engineer_id, unit_id=1, category="leak")


def refusal(o: WorkOrder, action: str, who, **kwargs) -> str:
    with pytest.raises(WorkOrderRefused) as e:
        check_action(o, action, who, **kwargs)
    assert str(e.value) == str(e.value.message)
    return str(e.value.message)


@pytest.mark.parametrize("who", [ENGINEER, SUPERVISOR, ADMIN])
def test_an_unassigned_order_can_be_accepted_by_engineering_or_supervision(who):
    """Accepting an open, unassigned order moves it to "accepted"."""
    assert check_action(order(S.OPEN), "accept", who) == S.ACCEPTED


@pytest.mark.parametrize("action,status", [("accept", S.OPEN), ("start", S.ACCEPTED),
                                           ("close", S.IN_PROGRESS)])
def test_housekeepers_never_work_on_repairs(zh, action, status):
    """Only engineering (or a supervisor) accepts, starts and closes repairs."""
    text = refusal(order(status, engineer_id=HOUSEKEEPER.id), action, HOUSEKEEPER,
                   note="修好了", photo_count=1)
    assert has_chinese(text)


def test_an_order_assigned_to_someone_else_cannot_be_accepted(zh):
    """An engineer cannot take over another engineer's order; a supervisor reassigns."""
    text = refusal(order(S.OPEN, engineer_id=OTHER_ENGINEER.id), "accept", ENGINEER)
    assert has_chinese(text)
    assert check_action(order(S.OPEN, engineer_id=OTHER_ENGINEER.id), "accept",
                        SUPERVISOR) == S.ACCEPTED


def test_an_order_assigned_to_me_can_be_accepted():
    """An order a supervisor assigned to me is mine to accept."""
    assert check_action(order(S.OPEN, engineer_id=ENGINEER.id), "accept", ENGINEER) == S.ACCEPTED


def test_starting_needs_the_order_to_be_mine(zh):
    """An accepted order nobody holds cannot be started by an engineer before accepting."""
    text = refusal(order(S.ACCEPTED, engineer_id=None), "start", ENGINEER)
    assert has_chinese(text)
    assert check_action(order(S.ACCEPTED, engineer_id=None), "start", SUPERVISOR) == \
        S.IN_PROGRESS


def test_closing_needs_words_and_a_photo_by_default(zh):
    """Without a note or a photo count given, closing is refused: nothing is assumed."""
    mine = order(S.IN_PROGRESS, engineer_id=ENGINEER.id)
    no_note = refusal(mine, "close", ENGINEER, photo_count=1)
    no_photo = refusal(mine, "close", ENGINEER, note="换了阀门")
    blank_note = refusal(mine, "close", ENGINEER, note="   ", photo_count=1)
    assert no_note == blank_note != no_photo
    assert has_chinese(no_note) and has_chinese(no_photo)
    assert check_action(mine, "close", ENGINEER, note="换了阀门", photo_count=1) == S.CLOSED


@pytest.mark.parametrize("who", [HOUSEKEEPER, SUPERVISOR, ADMIN])
def test_a_closed_order_is_reopened_with_a_reason(who):
    """The owner's "not satisfied", recorded by anyone but engineering, reopens it."""
    assert check_action(order(S.CLOSED, engineer_id=ENGINEER.id), "reopen", who,
                        note="还在漏") == S.OPEN


def test_reopening_needs_a_reason_and_not_the_engineer(zh):
    """No reason, no reopening; and the engineer cannot reopen their own repair."""
    closed = order(S.CLOSED, engineer_id=ENGINEER.id)
    no_reason = refusal(closed, "reopen", HOUSEKEEPER, note="  ")
    by_engineer = refusal(closed, "reopen", ENGINEER, note="还在漏")
    assert no_reason != by_engineer
    assert has_chinese(no_reason) and has_chinese(by_engineer)


def test_an_unknown_action_is_refused(zh):
    """Only accept, start, close and reopen exist."""
    assert has_chinese(refusal(order(S.OPEN), "demolish", SUPERVISOR))


def test_a_refusal_in_the_wrong_state_names_the_state(zh):
    """"Not possible now" says which state the order is in, in the user's words."""
    text = refusal(order(S.IN_PROGRESS, engineer_id=ENGINEER.id), "accept", ENGINEER)
    assert status_label(S.IN_PROGRESS) in text and has_chinese(text)


def test_refusals_say_different_things_for_different_causes(zh):
    """Each reason for refusing has its own message, so the user knows what to fix."""
    texts = {
        refusal(order(S.OPEN), "demolish", SUPERVISOR),
        refusal(order(S.OPEN), "start", SUPERVISOR),
        refusal(order(S.OPEN), "accept", HOUSEKEEPER),
        refusal(order(S.OPEN, engineer_id=OTHER_ENGINEER.id), "accept", ENGINEER),
        refusal(order(S.ACCEPTED), "start", ENGINEER),
        refusal(order(S.IN_PROGRESS, engineer_id=ENGINEER.id), "close", ENGINEER,
                photo_count=1),
        refusal(order(S.IN_PROGRESS, engineer_id=ENGINEER.id), "close", ENGINEER, note="好"),
        refusal(order(S.CLOSED), "reopen", ENGINEER, note="x"),
        refusal(order(S.CLOSED), "reopen", SUPERVISOR),
    }
    assert len(texts) == 9


def test_each_status_has_its_own_words_whether_given_as_enum_or_value(zh):
    """Templates pass the stored value, code passes the enum: the same word for both."""
    labels = [status_label(s) for s in S]
    assert labels == [status_label(s.value) for s in S]
    assert len(set(labels)) == len(S) and all(has_chinese(label) for label in labels)


def test_each_event_has_its_words_and_an_unknown_one_keeps_its_name(zh):
    """Timeline entries read as words; an action added later still shows its name."""
    labels = [event_label(action) for action in EVENT_LABELS]
    assert len(set(labels)) == len(labels) and all(has_chinese(label) for label in labels)
    assert event_label("inspected") == "inspected"
