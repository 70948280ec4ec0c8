"""How to reach the SMTP server: :class:`SmtpSettings`, built from the options of
``CarebookConfig.channel_options["email"]`` (or the worker's ``[worker.channel_options]``).

Every check happens here, at configuration time, with a
:class:`~carebook.errors.ConfigurationError` that names the option and never echoes the
password.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.errors import HeaderParseError
from email.headerregistry import Address
from typing import Any

import attrs
from attrs import frozen

from carebook.domain.validators import check_option_names
from carebook.errors import ConfigurationError

__all__ = ["SECURITY", "SmtpSettings"]

SECURITY = ("starttls", "tls", "none")
"""``starttls``: plain connection upgraded with STARTTLS (port 587, the default);
``tls``: TLS from the first byte (port 465); ``none``: no encryption (a local relay)."""

_DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]+\]$|^[0-9A-Fa-f:.]+$")


def _sender(value: object) -> str:
    if not isinstance(value, str) or "@" not in value:
        raise ConfigurationError("smtp option 'sender' must be an e-mail address")
    try:
        Address(addr_spec=value)
    except (HeaderParseError, ValueError, IndexError):
        raise ConfigurationError("smtp option 'sender' must be an e-mail address") from None
    return value


@frozen(kw_only=True)
class SmtpSettings:
    """The server, its security, the optional login and the sender's address.

    ``password`` never shows in a ``repr``. ``ca_file`` trusts a private CA besides the
    system's (a clinic's own relay); ``sender_name`` is the display name in From."""

    host: str
    sender: str
    port: int = 0  # 0: the security mode's usual port
    security: str = "starttls"
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    timeout: float = 10.0
    ca_file: str | None = None
    sender_name: str | None = None
    local_hostname: str | None = None

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.host, str) or not _HOST.match(self.host):
            raise ConfigurationError("smtp option 'host' must be a host name or an IP address")
        _sender(self.sender)
        if self.security not in SECURITY:
            raise ConfigurationError(f"smtp option 'security' must be one of {list(SECURITY)}")
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise ConfigurationError("smtp option 'port' must be an integer")
        if not 0 <= self.port <= 65535:
            raise ConfigurationError("smtp option 'port' must be between 1 and 65535")
        if (self.username is None) != (self.password is None):
            raise ConfigurationError("smtp options 'username' and 'password' go together")
        for name in ("username", "password", "ca_file", "sender_name", "local_hostname"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value):
                raise ConfigurationError(f"smtp option {name!r} must be a non-empty string")
        if self.username is not None and self.security == "none":
            raise ConfigurationError(
                "smtp refuses to send a password unencrypted: use security 'starttls' or 'tls'"
            )
        if (
            isinstance(self.timeout, bool)
            or not isinstance(self.timeout, int | float)
            or not 0 < self.timeout <= 300
        ):
            raise ConfigurationError("smtp option 'timeout' must be seconds in (0, 300]")

    @property
    def effective_port(self) -> int:
        return self.port or _DEFAULT_PORTS[self.security]

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SmtpSettings:
        options = check_option_names(cls, options, "smtp options")
        missing = {"host", "sender"} - set(options)
        if missing:
            raise ConfigurationError(f"missing smtp options: {sorted(missing)}")
        return cls(**dict(options))
