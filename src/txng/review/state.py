"""The review state machine (C7): a pure function, no database, tested exhaustively.

One review item is one submitted version of one thing (a product, an organisation profile, an
event batch, a stamp request, …). Nothing reaches the public before a reviewer approves and
publishes it; a published version is later superseded by the next one, or suspended / recalled.
"""

from __future__ import annotations

from enum import StrEnum

from txng.accounts.roles import Role
from txng.errors import N_


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"
    SUSPENDED = "suspended"
    RECALLED = "recalled"
    WITHDRAWN = "withdrawn"


class Action(StrEnum):
    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    APPROVE = "approve"
    REJECT = "reject"
    PUBLISH = "publish"
    SUPERSEDE = "supersede"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    RECALL = "recall"


STATE_LABELS = {
    State.DRAFT: N_("Draft"),
    State.SUBMITTED: N_("Awaiting review"),
    State.APPROVED: N_("Approved"),
    State.REJECTED: N_("Rejected"),
    State.PUBLISHED: N_("Published"),
    State.SUPERSEDED: N_("Superseded"),
    State.SUSPENDED: N_("Suspended"),
    State.RECALLED: N_("Recalled"),
    State.WITHDRAWN: N_("Withdrawn"),
}

ACTION_LABELS = {
    Action.SUBMIT: N_("Submit for review"),
    Action.WITHDRAW: N_("Withdraw"),
    Action.APPROVE: N_("Approve"),
    Action.REJECT: N_("Reject"),
    Action.PUBLISH: N_("Publish"),
    Action.SUPERSEDE: N_("Supersede"),
    Action.SUSPEND: N_("Suspend"),
    Action.REINSTATE: N_("Reinstate"),
    Action.RECALL: N_("Recall"),
}

# Who may act. ``None`` is the system itself: the trust policy, a resubmission, a publication.
Actor = Role | None

OWNERS: frozenset[Actor] = frozenset({Role.ENTERPRISE_ADMIN, Role.ENTERPRISE_STAFF})
ADMINS: frozenset[Actor] = frozenset({Role.SYSTEM_ADMIN, Role.PROVINCIAL_ADMIN})
# The standing body, the sector departments and the commune people's committees review.
REVIEWERS: frozenset[Actor] = ADMINS | {Role.SECTOR_REVIEWER, Role.COMMUNE_OFFICER}
# Suspensions and recalls follow inspections: inspectors, sector departments, the standing body.
ENFORCERS: frozenset[Actor] = ADMINS | {Role.SECTOR_REVIEWER, Role.INSPECTOR}
SYSTEM: frozenset[Actor] = frozenset({None})

# (state, action) -> (new state, who may do it)
TRANSITIONS: dict[tuple[State, Action], tuple[State, frozenset[Actor]]] = {
    (State.DRAFT, Action.SUBMIT): (State.SUBMITTED, OWNERS | ADMINS | SYSTEM),
    (State.DRAFT, Action.WITHDRAW): (State.WITHDRAWN, OWNERS),
    (State.DRAFT, Action.SUPERSEDE): (State.SUPERSEDED, SYSTEM),
    (State.SUBMITTED, Action.WITHDRAW): (State.WITHDRAWN, OWNERS),
    (State.SUBMITTED, Action.APPROVE): (State.APPROVED, REVIEWERS | SYSTEM),
    (State.SUBMITTED, Action.REJECT): (State.REJECTED, REVIEWERS),
    (State.SUBMITTED, Action.SUPERSEDE): (State.SUPERSEDED, SYSTEM),
    (State.APPROVED, Action.PUBLISH): (State.PUBLISHED, REVIEWERS | SYSTEM),
    (State.APPROVED, Action.SUPERSEDE): (State.SUPERSEDED, SYSTEM),
    (State.PUBLISHED, Action.SUPERSEDE): (State.SUPERSEDED, SYSTEM),
    (State.PUBLISHED, Action.SUSPEND): (State.SUSPENDED, ENFORCERS),
    (State.PUBLISHED, Action.RECALL): (State.RECALLED, ENFORCERS),
    (State.SUSPENDED, Action.REINSTATE): (State.PUBLISHED, ENFORCERS),
    (State.SUSPENDED, Action.RECALL): (State.RECALLED, ENFORCERS),
}

# States in which a version is (or was) the public one.
PUBLIC_STATES = frozenset({State.PUBLISHED})
# States still waiting for someone: a new submission replaces them.
PENDING_STATES = frozenset({State.DRAFT, State.SUBMITTED, State.APPROVED})
FINAL_STATES = frozenset({State.REJECTED, State.SUPERSEDED, State.RECALLED, State.WITHDRAWN})
# Actions whose decision must carry a reason (shown to the submitter and kept in the audit log).
NEEDS_REASON = frozenset({Action.REJECT, Action.SUSPEND, Action.RECALL})


class TransitionRefused(Exception):
    def __init__(self, state: State, action: Action, role: Actor) -> None:
        self.state = state
        self.action = action
        self.role = role
        super().__init__(f"{action.value} from {state.value} by {role or 'system'}")


class IllegalTransition(TransitionRefused):
    """The action does not apply to the item's state (409 at the edge)."""


class ActionNotPermitted(TransitionRefused):
    """The action applies, but the caller's role may not take it (403 at the edge)."""


def transition(state: State, action: Action, role: Actor) -> State:
    """The state after ``role`` takes ``action`` on an item in ``state``; raises when refused."""
    rule = TRANSITIONS.get((state, action))
    if rule is None:
        raise IllegalTransition(state, action, role)
    new_state, allowed = rule
    if role not in allowed:
        raise ActionNotPermitted(state, action, role)
    return new_state


def actions_for(state: State, role: Actor) -> list[Action]:
    """The actions ``role`` may take on an item in ``state``, in declaration order."""
    return [
        action
        for (from_state, action), (_, allowed) in TRANSITIONS.items()
        if from_state == state and role in allowed
    ]
