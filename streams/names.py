"""Every name shared between producers, the ingest worker and the web server.

Stream keys, group names, event types, case states and Socket.IO event names live
here and nowhere else (rq keeps its key names the same way, in one place).
"""

from enum import StrEnum

DEFAULT_STREAM = "commandhall:cases"
DEFAULT_GROUP = "commandhall-ingest"
EVENT_FIELD = "event"


def push_channel(stream: str) -> str:
    """The Socket.IO channel of the screens fed from this stream (one per city: two
    cities on one Redis must not see each other's pushes)."""
    return f"{stream}:push"


def push_sequence_key(stream: str) -> str:
    """The count that numbers the pushes of this stream's channel."""
    return f"{stream}:push:seq"


def lane_key(stream: str) -> str:
    """The emergency lane beside a case stream: read before it (issue 14).

    `emergency.*` events and the hall's actions on cases (LANE_TYPES) may be published
    here instead of on the stream, with the stream's last entry id as field `after`
    (`Producer.publish_lane` does both in one script), so that they overtake a
    backlog. Per case, order holds: a lane entry waits for the stream's entries of
    its case (or, for emergency.*, the stream's emergency events) up to `after`.
    """
    return f"{stream}:lane"


AFTER_FIELD = "after"


def dead_letter_key(stream: str) -> str:
    """The dead-letter stream that sits beside a case stream."""
    return f"{stream}:dead"


# The keys of one consumer group on one stream all start with the stream's key, so a
# hash tag in it (`{commandhall}:cases`) keeps them in one Redis Cluster slot, and a
# partitioned stream later has a lease and a status per partition.
def lease_key(stream: str, group: str) -> str:
    """The lease the one active consumer of a group holds (SET NX PX, renewed)."""
    return f"{stream}:lease:{group}"


def status_key(stream: str, group: str) -> str:
    """The active consumer's heartbeat and figures, read by /healthz; it expires."""
    return f"{stream}:status:{group}"


def lost_key(stream: str, group: str) -> str:
    """A note that the stream or its group was lost and where ingest resumed."""
    return f"{stream}:lost:{group}"


def heard_key(stream: str, group: str) -> str:
    """The last heartbeat any active consumer wrote: kept when the status expired."""
    return f"{stream}:heard:{group}"


def trimmed_key(stream: str) -> str:
    """How many entries retention removed from a stream (and its dead letters)."""
    return f"{stream}:trimmed"


def failures_key(stream: str, group: str) -> str:
    """The last error per entry id, for the reason of an entry set aside as poison."""
    return f"{stream}:failures:{group}"


class EventType(StrEnum):
    """Event types of stream contract v1 (shared/DOMAIN.md)."""

    REPORTED = "case.reported"
    FILED = "case.filed"
    REJECTED = "case.rejected"
    VOIDED = "case.voided"
    DISPATCHED = "case.dispatched"
    RETURNED = "case.returned"
    EXTENDED = "case.extended"
    SUSPENDED = "case.suspended"
    RESUMED = "case.resumed"
    HANDLED = "case.handled"
    VERIFIED = "case.verified"
    CLOSED = "case.closed"
    URGED = "case.urged"
    SUPERVISED = "case.supervised"
    FLAGGED = "case.flagged"  # a commander marks it an emergency case (our addition to v1)
    EMERGENCY_RAISED = "emergency.raised"
    EMERGENCY_CLEARED = "emergency.cleared"

    @property
    def is_case_event(self) -> bool:
        """Whether the event concerns one case (and so carries case_id)."""
        return self.value.startswith("case.")


# What may ride the lane: the emergency switch and a commander's or leader's action.
# Case events of the workflow stay on the stream, in the order their system made them.
LANE_TYPES = frozenset(
    {
        EventType.URGED,
        EventType.SUPERVISED,
        EventType.FLAGGED,
        EventType.EMERGENCY_RAISED,
        EventType.EMERGENCY_CLEARED,
    }
)


class CaseState(StrEnum):
    """States of the national workflow; REPORTED..CLOSED in order of progress."""

    REPORTED = "reported"
    FILED = "filed"
    DISPATCHED = "dispatched"
    SUSPENDED = "suspended"
    HANDLED = "handled"
    VERIFYING = "verifying"
    CLOSED = "closed"
    REJECTED = "rejected"
    VOIDED = "voided"

    @property
    def is_open(self) -> bool:
        """Whether the case still needs work (not closed, rejected or voided)."""
        return self not in CLOSED_STATES


# The states that end a case; every other state is open. Screens get both lists in
# their metadata, so the browser never redefines them.
CLOSED_STATES = (CaseState.CLOSED, CaseState.REJECTED, CaseState.VOIDED)
OPEN_STATES = tuple(state for state in CaseState if state not in CLOSED_STATES)


class Source(StrEnum):
    """Where a report came from."""

    INSPECTOR = "inspector"
    CITIZEN = "citizen"
    HOTLINE = "hotline"
    VIDEO = "video"
    MEDIA = "media"
    SELF = "self"


class Kind(StrEnum):
    """Components (部件) are physical objects; events (事件) are behaviours."""

    COMPONENT = "component"
    EVENT = "event"


class Urgency(StrEnum):
    """Urgency levels; urgent ones shorten the handling limit."""

    NORMAL = "normal"
    URGENT = "urgent"
    VERY_URGENT = "very_urgent"


class SignalLevel(StrEnum):
    """Warning signal colours, lowest first."""

    WHITE = "white"
    BLUE = "blue"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"


class Hazard(StrEnum):
    """The hazards the hall names and a duty desk may raise emergency mode for.

    The contract still accepts any hazard of 1-32 characters from a producer (a word
    we do not know is still an emergency, issue 20): screens show such a word as the
    text it is, and a desk keeps it when it changes that period's level or note.
    """

    TYPHOON = "typhoon"
    RAINSTORM = "rainstorm"
    FLOOD = "flood"
    OTHER = "other"


class Light(StrEnum):
    """Traffic light of an open case's deadline."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class Push(StrEnum):
    """Socket.IO event names the server pushes to browsers."""

    CASES = "cases"
    KPIS = "kpis"
    EMERGENCY = "emergency"
    RESYNC = "resync"
    HEARTBEAT = "heartbeat"
    REVOKED = "revoked"
