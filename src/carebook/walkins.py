"""Walk-in check-ins, the queue of each location, and live wait times.

Reached at run time as ``cb.walkins`` (:class:`WalkIns`); see docs/walk-ins.md.
"""

from carebook.domain.events import (
    WaitTimeChanged,
)
from carebook.domain.walkins.queue import (
    CheckedIn,
    CheckIn,
    CheckInChannel,
    CheckInOutcome,
    DutyShift,
    NoAvailability,
    QueueEntry,
    QueueEntryId,
    QueueStatus,
    WalkInSettings,
)
from carebook.domain.walkins.waittime import (
    DurationStats,
    PublishedWait,
    WaitEstimate,
    estimate_wait,
)
from carebook.errors import (
    AlreadyCheckedInError,
)
from carebook.services.walkins.service import (
    LocationWait,
    SweepResult,
    WalkIns,
)

__all__ = [
    "AlreadyCheckedInError",
    "CheckIn",
    "CheckInChannel",
    "CheckInOutcome",
    "CheckedIn",
    "DurationStats",
    "DutyShift",
    "LocationWait",
    "NoAvailability",
    "PublishedWait",
    "QueueEntry",
    "QueueEntryId",
    "QueueStatus",
    "SweepResult",
    "WaitEstimate",
    "WaitTimeChanged",
    "WalkInSettings",
    "WalkIns",
    "estimate_wait",
]
