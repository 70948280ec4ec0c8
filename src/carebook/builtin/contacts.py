"""Built-in contact directories and a recording channel notifier (tests, examples).

Contact details live in the host application: a production host registers its own
:class:`~carebook.ports.ContactDirectory` (``carebook_register_contact_directories``)
that looks addresses up in its patient records. :class:`StaticDirectory` is for demos and
tests: a fixed mapping from a patient's ``contact_ref`` (or a recipient's id, for staff)
to an address per channel.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from typing import Any

from carebook.domain.messaging import OutboundMessage
from carebook.errors import ConfigurationError

__all__ = ["RecordingChannel", "StaticDirectory"]


class StaticDirectory:
    """Addresses from a fixed mapping: ``{key: {channel: address}}``, where ``key`` is a
    patient's ``contact_ref`` or a recipient's id as a string."""

    def __init__(self, addresses: Mapping[str, Mapping[str, str]]) -> None:
        for key, by_channel in addresses.items():
            if not isinstance(key, str) or not isinstance(by_channel, Mapping):
                raise ConfigurationError("addresses maps a key to {channel: address}")
            for channel, address in by_channel.items():
                if not isinstance(channel, str) or not isinstance(address, str):
                    raise ConfigurationError("addresses maps a key to {channel: address}")
        self._addresses = {k: dict(v) for k, v in addresses.items()}

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> StaticDirectory:
        unknown = set(options) - {"addresses"}
        if unknown:
            raise ConfigurationError(f"unknown static directory options: {sorted(unknown)}")
        return cls(options.get("addresses", {}))

    def address(
        self, recipient_role: str, recipient_id: uuid.UUID, contact_ref: str | None, channel: str
    ) -> str | None:
        for key in (contact_ref, str(recipient_id)):
            if key is not None and channel in self._addresses.get(key, {}):
                return self._addresses[key][channel]
        return None

    def __repr__(self) -> str:
        return f"StaticDirectory({len(self._addresses)} entries)"


class RecordingChannel:
    """A channel notifier that keeps what it was given (``messages``), for tests and
    examples; ``channel`` and ``requires_address`` come from the options."""

    def __init__(self, channel: str = "email", *, requires_address: bool = True) -> None:
        if not isinstance(channel, str) or not channel:
            raise ConfigurationError("a recording channel needs a non-empty channel name")
        self._channel = channel
        self._requires_address = bool(requires_address)
        self._lock = threading.Lock()
        self.messages: list[OutboundMessage] = []

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> RecordingChannel:
        unknown = set(options) - {"channel", "requires_address"}
        if unknown:
            raise ConfigurationError(f"unknown recording channel options: {sorted(unknown)}")
        return cls(
            options.get("channel", "email"),
            requires_address=options.get("requires_address", True),
        )

    @property
    def channel(self) -> str:
        return self._channel

    @property
    def requires_address(self) -> bool:
        return self._requires_address

    def deliver(self, message: OutboundMessage) -> None:
        with self._lock:
            self.messages.append(message)
