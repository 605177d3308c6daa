"""The review state machine: every (state, action, role) triple, as a table and as properties."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from txng.accounts.roles import Role
from txng.review.state import (
    FINAL_STATES,
    NEEDS_REASON,
    Action,
    ActionNotPermitted,
    Actor,
    IllegalTransition,
    State,
    actions_for,
    transition,
)

S, A, R = State, Action, Role
OWNER = {R.ENTERPRISE_ADMIN, R.ENTERPRISE_STAFF}
ADMIN = {R.SYSTEM_ADMIN, R.PROVINCIAL_ADMIN}
REVIEW = ADMIN | {R.SECTOR_REVIEWER, R.COMMUNE_OFFICER}
ENFORCE = ADMIN | {R.SECTOR_REVIEWER, R.INSPECTOR}
SYS: set[Actor] = {None}

# Written out independently of the module's table: the legal transitions and who takes them.
EXPECTED: dict[tuple[State, Action], tuple[State, set[Actor]]] = {
    (S.DRAFT, A.SUBMIT): (S.SUBMITTED, OWNER | ADMIN | SYS),
    (S.DRAFT, A.WITHDRAW): (S.WITHDRAWN, OWNER),
    (S.DRAFT, A.SUPERSEDE): (S.SUPERSEDED, SYS),
    (S.SUBMITTED, A.WITHDRAW): (S.WITHDRAWN, OWNER),
    (S.SUBMITTED, A.APPROVE): (S.APPROVED, REVIEW | SYS),
    (S.SUBMITTED, A.REJECT): (S.REJECTED, REVIEW),
    (S.SUBMITTED, A.SUPERSEDE): (S.SUPERSEDED, SYS),
    (S.APPROVED, A.PUBLISH): (S.PUBLISHED, REVIEW | SYS),
    (S.APPROVED, A.SUPERSEDE): (S.SUPERSEDED, SYS),
    (S.PUBLISHED, A.SUPERSEDE): (S.SUPERSEDED, SYS),
    (S.PUBLISHED, A.SUSPEND): (S.SUSPENDED, ENFORCE),
    (S.PUBLISHED, A.RECALL): (S.RECALLED, ENFORCE),
    (S.SUSPENDED, A.REINSTATE): (S.PUBLISHED, ENFORCE),
    (S.SUSPENDED, A.RECALL): (S.RECALLED, ENFORCE),
}
ACTORS: list[Actor] = [*Role, None]
TRIPLES = list(itertools.product(State, Action, ACTORS))


def _expected(state: State, action: Action, role: Actor) -> State | type[Exception]:
    rule = EXPECTED.get((state, action))
    if rule is None:
        return IllegalTransition
    new_state, allowed = rule
    return new_state if role in allowed else ActionNotPermitted


@pytest.mark.parametrize(
    ("state", "action", "role"), TRIPLES, ids=[f"{s}-{a}-{r or 'system'}" for s, a, r in TRIPLES]
)
def test_every_triple_matches_the_table(state: State, action: Action, role: Actor) -> None:
    expected = _expected(state, action, role)
    if isinstance(expected, State):
        assert transition(state, action, role) == expected
    else:
        with pytest.raises(expected):
            transition(state, action, role)


@given(st.sampled_from(State), st.sampled_from(Action), st.sampled_from(ACTORS))
def test_transition_returns_a_state_or_refuses(state: State, action: Action, role: Actor) -> None:
    try:
        new_state = transition(state, action, role)
    except IllegalTransition:
        assert (state, action) not in EXPECTED
    except ActionNotPermitted:
        assert (state, action) in EXPECTED
        assert role not in EXPECTED[(state, action)][1]
    else:
        assert new_state == EXPECTED[(state, action)][0]
        assert action in actions_for(state, role)


@given(st.lists(st.tuples(st.sampled_from(Action), st.sampled_from(ACTORS)), max_size=30))
def test_no_path_reaches_the_public_without_a_reviewer_or_the_system_approving(
    steps: list[tuple[Action, Actor]],
) -> None:
    state = State.DRAFT
    approved_by: list[Actor] = []
    for action, role in steps:
        try:
            new_state = transition(state, action, role)
        except (IllegalTransition, ActionNotPermitted):
            continue
        if action == Action.APPROVE:
            approved_by.append(role)
        if new_state == State.PUBLISHED:
            assert approved_by
            assert all(r not in OWNER for r in approved_by)
        state = new_state


@given(st.sampled_from(sorted(FINAL_STATES)), st.sampled_from(Action), st.sampled_from(ACTORS))
def test_final_states_are_final(state: State, action: Action, role: Actor) -> None:
    with pytest.raises(IllegalTransition):
        transition(state, action, role)


def test_owners_never_decide_and_inspectors_only_enforce() -> None:
    for state in State:
        for role in OWNER:
            assert set(actions_for(state, role)) <= {A.SUBMIT, A.WITHDRAW}
        assert set(actions_for(state, R.INSPECTOR)) <= {A.SUSPEND, A.RECALL, A.REINSTATE}


def test_decisions_that_need_a_reason() -> None:
    assert {A.REJECT, A.SUSPEND, A.RECALL} == NEEDS_REASON


def test_actions_for_lists_what_the_reviewer_sees() -> None:
    assert actions_for(S.SUBMITTED, R.SECTOR_REVIEWER) == [A.APPROVE, A.REJECT]
    assert actions_for(S.PUBLISHED, R.INSPECTOR) == [A.SUSPEND, A.RECALL]
    assert actions_for(S.SUBMITTED, R.ENTERPRISE_STAFF) == [A.WITHDRAW]
