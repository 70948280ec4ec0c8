"""Messages people read: the context of a notification and the channel pipeline."""

from carebook.services.messaging.context import Resolved, resolve
from carebook.services.messaging.sender import ChannelSender

__all__ = ["ChannelSender", "Resolved", "resolve"]
