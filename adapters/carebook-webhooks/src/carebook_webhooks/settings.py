"""The webhook channel's settings, validated once when the notifier is built.

Every error is a :class:`carebook.errors.ConfigurationError` that names the option and
what it must be, never the value given: the secret must not reach a log, and a URL may
carry a token in its query.
"""

from __future__ import annotations

import base64
import binascii
import math
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs
from attrs import frozen

from carebook.errors import ConfigurationError

__all__ = [
    "MAX_RETRIES",
    "MAX_SECRET_BYTES",
    "MAX_TIMEOUT",
    "MIN_SECRET_BYTES",
    "OPTIONS",
    "SECRET_PREFIX",
    "WebhookSettings",
    "generate_secret",
]

SECRET_PREFIX = "whsec_"
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64
"""The Standard Webhooks spec's bounds on a symmetric secret (24 to 64 random bytes)."""
MAX_TIMEOUT = 300.0
MAX_RETRIES = 10
OPTIONS = frozenset({"url", "secret", "channel", "requires_address", "timeout", "retries"})


def generate_secret(n_bytes: int = 32) -> str:
    """A new random secret in Standard Webhooks form: ``whsec_`` + base64 of the bytes."""
    if not MIN_SECRET_BYTES <= n_bytes <= MAX_SECRET_BYTES:
        raise ConfigurationError(
            f"a webhook secret has {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes"
        )
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(n_bytes)).decode("ascii")


def _check_url(_instance: object, _attribute: object, value: Any) -> None:
    problem = "webhook option 'url' must be an absolute http:// or https:// URL with a host"
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        raise ConfigurationError(problem)
    if not value.isprintable():
        raise ConfigurationError(problem)
    try:
        parts = urlsplit(value)
        _ = parts.port  # a malformed port raises ValueError
    except ValueError:
        raise ConfigurationError(problem) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(problem)
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(
            "webhook option 'url' must not carry credentials: the secret signs each request"
        )
    if parts.fragment:
        raise ConfigurationError("webhook option 'url' must not have a #fragment")


def _check_secret(_instance: object, _attribute: object, value: Any) -> None:
    problem = (
        f"webhook option 'secret' must be {SECRET_PREFIX!r} followed by the base64 of "
        f"{MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} random bytes"
    )
    if not isinstance(value, str) or not value.startswith(SECRET_PREFIX):
        raise ConfigurationError(problem)
    encoded = value[len(SECRET_PREFIX) :]
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(problem) from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise ConfigurationError(problem)


def _check_channel(_instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, str) or not value.strip() or value != value.strip():
        raise ConfigurationError("webhook option 'channel' must be a non-empty name")


def _check_requires_address(_instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigurationError("webhook option 'requires_address' must be true or false")


def _to_timeout(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _check_timeout(_instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, float) or not math.isfinite(value) or not 0 < value <= MAX_TIMEOUT:
        raise ConfigurationError(
            f"webhook option 'timeout' must be a number of seconds above 0, at most {MAX_TIMEOUT:g}"
        )


def _check_retries(_instance: object, _attribute: object, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_RETRIES:
        raise ConfigurationError(
            f"webhook option 'retries' must be a whole number from 0 to {MAX_RETRIES}"
        )


@frozen(kw_only=True)
class WebhookSettings:
    """Where to POST and how.

    - ``url``: the host's endpoint (``http://`` or ``https://``; use https outside a
      private network). Every message goes there, whatever its address.
    - ``secret``: ``whsec_`` + base64 of 24 to 64 random bytes (:func:`generate_secret`);
      it signs each request and is never shown (not in ``repr``, not in an error).
    - ``channel``: the channel name carebook knows this notifier by (``"webhook"``).
    - ``requires_address``: when True, recipients the contact directory has no address
      for on this channel are skipped (default False: the host's system routes).
    - ``timeout``: seconds per attempt (connect and each read), default 5.
    - ``retries``: attempts after the first on a 5xx, a 429 or a network error (default
      3, so at most 4 attempts), with exponential backoff; any other 4xx is not retried.
    """

    url: str = attrs.field(validator=_check_url)
    secret: str = attrs.field(validator=_check_secret, repr=False)
    channel: str = attrs.field(default="webhook", validator=_check_channel)
    requires_address: bool = attrs.field(default=False, validator=_check_requires_address)
    timeout: float = attrs.field(default=5.0, converter=_to_timeout, validator=_check_timeout)
    retries: int = attrs.field(default=3, validator=_check_retries)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> WebhookSettings:
        """Settings from a configuration mapping (``[worker.channel_options.webhook]``).

        Unknown keys and bad values are a ConfigurationError; ``url`` and ``secret`` are
        required."""
        if not isinstance(options, Mapping):
            raise ConfigurationError("webhook options must be a mapping")
        keys = list(options)
        if not all(isinstance(key, str) for key in keys):
            raise ConfigurationError("webhook option names must be strings")
        unknown = sorted(set(keys) - OPTIONS)
        if unknown:
            raise ConfigurationError(
                f"unknown webhook options: {unknown}; known: {sorted(OPTIONS)}"
            )
        missing = [name for name in ("url", "secret") if name not in options]
        if missing:
            raise ConfigurationError(f"webhook options need {' and '.join(missing)}")
        return cls(**dict(options))
