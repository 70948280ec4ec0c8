"""What a notifier receives: one :class:`Notification` per recipient of an event,
carrying ids and a kind, never patient data; see the Notifier port in docs/ports.md.
"""

from carebook.domain.notifications import (
    Notification,
)

__all__ = [
    "Notification",
]
