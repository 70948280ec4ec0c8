"""The SMS channel's settings: :class:`TwilioSettings`, built from the options of
``CarebookConfig.channel_options["sms"]`` (or the worker's
``[worker.channel_options.sms]``) and validated once, when the notifier is built.

Every error is a :class:`carebook.errors.ConfigurationError` that names the option and
what it must be, never the value given: the auth token must not reach a log, and a URL
may carry a token in its query.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping
from typing import Any, Final, TypeGuard
from urllib.parse import SplitResult, urlsplit

import attrs
from attrs import frozen

from carebook.domain.validators import check_option_names
from carebook.errors import ConfigurationError

__all__ = [
    "DEFAULT_BASE_URL",
    "E164",
    "MAX_RETRIES",
    "MAX_SEGMENTS",
    "MAX_TIMEOUT",
    "TwilioSettings",
    "is_e164",
    "is_loopback_host",
]

DEFAULT_BASE_URL: Final = "https://api.twilio.com"
MAX_TIMEOUT: Final = 300.0
MAX_RETRIES: Final = 10
MAX_SEGMENTS: Final = 24
"""The highest ``max_segments`` one may set (a sanity bound, not a Twilio limit)."""

E164: Final = re.compile(r"\+[1-9][0-9]{7,14}")
"""An E.164 number as Twilio takes it: ``+``, then 8 to 15 digits, the first not 0."""
_SID: Final = {
    "account_sid": ("AC", re.compile(r"AC[0-9a-f]{32}")),
    "api_key_sid": ("SK", re.compile(r"SK[0-9a-f]{32}")),
    "messaging_service_sid": ("MG", re.compile(r"MG[0-9a-f]{32}")),
}
_TOKEN: Final = re.compile(r"[\x21-\x7e]{16,128}")
_LOOPBACK_NAMES: Final = frozenset({"localhost"})


def is_e164(value: object) -> TypeGuard[str]:
    """True when ``value`` is a string holding one E.164 number and nothing else."""
    return isinstance(value, str) and E164.fullmatch(value) is not None


def is_loopback_host(host: str | None) -> bool:
    """True for ``localhost`` and loopback IP addresses (``127.0.0.1``, ``::1``...)."""
    if not host:
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _split(value: object, problem: str) -> SplitResult:
    if not isinstance(value, str) or not value or not value.isprintable():
        raise ConfigurationError(problem)
    if any(char.isspace() for char in value):
        raise ConfigurationError(problem)
    try:
        parts = urlsplit(value)
        _ = parts.port  # a malformed port raises ValueError
    except ValueError:
        raise ConfigurationError(problem) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(problem)
    return parts


def _check_sid(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    prefix, pattern = _SID[attribute.name]
    if value is None and attribute.name != "account_sid":
        return
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise ConfigurationError(
            f"twilio option {attribute.name!r} must be {prefix!r} followed by 32 "
            "hexadecimal digits (0-9, a-f)"
        )


def _check_auth_token(_instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, str) or _TOKEN.fullmatch(value) is None:
        raise ConfigurationError(
            "twilio option 'auth_token' must be the account's auth token (or the API "
            "key's secret): 16 to 128 printable ASCII characters, no spaces"
        )


def _check_from_number(_instance: object, _attribute: object, value: Any) -> None:
    if value is not None and not is_e164(value):
        raise ConfigurationError(
            "twilio option 'from_number' must be an E.164 number: '+' and 8 to 15 digits"
        )


def _check_base_url(_instance: object, _attribute: object, value: Any) -> None:
    parts = _split(value, "twilio option 'base_url' must be an absolute https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(
            "twilio option 'base_url' must not carry credentials: the account SID and "
            "auth token authenticate each request"
        )
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        raise ConfigurationError("twilio option 'base_url' must have no ?query and no #fragment")
    if parts.scheme.lower() != "https" and not is_loopback_host(parts.hostname):
        raise ConfigurationError(
            "twilio option 'base_url' must use https (http only for a loopback host: "
            "127.0.0.1, ::1 or localhost)"
        )


def _check_status_callback(_instance: object, _attribute: object, value: Any) -> None:
    if value is None:
        return
    parts = _split(
        value, "twilio option 'status_callback' must be an absolute https:// URL with a host"
    )
    if parts.scheme.lower() != "https":
        raise ConfigurationError("twilio option 'status_callback' must use https")
    if parts.fragment or value.endswith("#"):
        raise ConfigurationError("twilio option 'status_callback' must not have a #fragment")


def _check_channel(_instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, str) or not value.strip() or value != value.strip():
        raise ConfigurationError("twilio option 'channel' must be a non-empty name")


def _to_float(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _check_timeout(_instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, float) or not math.isfinite(value) or not 0 < value <= MAX_TIMEOUT:
        raise ConfigurationError(
            f"twilio option 'timeout' must be a number of seconds above 0, at most {MAX_TIMEOUT:g}"
        )


def _whole(low: int, high: int) -> Any:
    def check(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigurationError(
                f"twilio option {attribute.name!r} must be a whole number from {low} to {high}"
            )

    return check


@frozen(kw_only=True)
class TwilioSettings:
    """Which Twilio account sends, from where, and how hard to try.

    - ``account_sid``: the account (``AC`` + 32 hex digits); it is in every request's path.
    - ``auth_token``: the account's auth token, or, with ``api_key_sid``, that API key's
      secret. Never shown (not in ``repr``, not in an error).
    - ``api_key_sid``: an API key (``SK`` + 32 hex digits) to authenticate with instead of
      the account SID (recommended: it can be revoked alone). Optional.
    - ``from_number`` or ``messaging_service_sid`` (exactly one): the sender, an E.164
      number of the account, or a Messaging Service (``MG`` + 32 hex digits) that picks
      one (or a short code, or an alphanumeric sender ID) itself.
    - ``base_url``: where the API is (``https://api.twilio.com``): a regional edge, a
      proxy, or a local test server (http is allowed for a loopback host only).
    - ``status_callback``: an https URL Twilio posts each status change to. Optional;
      hidden from ``repr`` (it may carry a token).
    - ``channel``: the channel name carebook knows this notifier by (``"sms"``).
    - ``timeout``: seconds per attempt (connect and each read), default 10.
    - ``retries``: attempts after the first on a 5xx, a 429 or a network error (default
      2, so at most 3 attempts), with exponential backoff; any other status fails at once.
    - ``max_segments``: the most SMS segments one message may take (default 10); a longer
      text is refused before sending (:class:`~carebook_twilio.errors.SmsTooLongError`).
    """

    account_sid: str = attrs.field(validator=_check_sid)
    auth_token: str = attrs.field(validator=_check_auth_token, repr=False)
    api_key_sid: str | None = attrs.field(default=None, validator=_check_sid)
    from_number: str | None = attrs.field(default=None, validator=_check_from_number)
    messaging_service_sid: str | None = attrs.field(default=None, validator=_check_sid)
    base_url: str = attrs.field(default=DEFAULT_BASE_URL, validator=_check_base_url)
    status_callback: str | None = attrs.field(
        default=None, validator=_check_status_callback, repr=False
    )
    channel: str = attrs.field(default="sms", validator=_check_channel)
    timeout: float = attrs.field(default=10.0, converter=_to_float, validator=_check_timeout)
    retries: int = attrs.field(default=2, validator=_whole(0, MAX_RETRIES))
    max_segments: int = attrs.field(default=10, validator=_whole(1, MAX_SEGMENTS))

    def __attrs_post_init__(self) -> None:
        if (self.from_number is None) == (self.messaging_service_sid is None):
            raise ConfigurationError(
                "twilio options 'from_number' and 'messaging_service_sid': set exactly one"
            )

    @property
    def messages_url(self) -> str:
        """``{base_url}/2010-04-01/Accounts/{account_sid}/Messages.json``."""
        return f"{self.base_url.rstrip('/')}/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    @property
    def username(self) -> str:
        """The Basic-auth user: the API key SID when there is one, else the account SID."""
        return self.api_key_sid or self.account_sid

    @property
    def is_loopback(self) -> bool:
        """True when ``base_url`` is a loopback host (a local test server)."""
        return is_loopback_host(urlsplit(self.base_url).hostname)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> TwilioSettings:
        """Settings from a configuration mapping (``[worker.channel_options.sms]``).

        Unknown keys and bad values are a ConfigurationError; ``account_sid``,
        ``auth_token`` and one of ``from_number`` and ``messaging_service_sid`` are
        required."""
        options = check_option_names(cls, options, "twilio options")
        missing = sorted({"account_sid", "auth_token"} - set(options))
        if missing:
            raise ConfigurationError(f"missing twilio options: {missing}")
        return cls(**dict(options))
