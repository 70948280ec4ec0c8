"""Settings: defaults, every option, and a ConfigurationError for every bad value that
names the option and never shows the value (nor the auth token)."""

from __future__ import annotations

import copy
from typing import Any

import attrs
import pytest

from carebook.errors import ConfigurationError
from carebook_twilio import TwilioNotifier, TwilioSettings
from carebook_twilio.settings import DEFAULT_BASE_URL, is_e164, is_loopback_host
from carebook_twilio.testing import new_account_sid, new_auth_token

pytest_plugins = ["carebook_twilio.fixtures"]


ACCOUNT = new_account_sid()
TOKEN = new_auth_token()
KEY = "SK" + "0123456789abcdef" * 2
SERVICE = "MG" + "fedcba9876543210" * 2
SENDER = "+15017122661"
OPTION_NAMES = (
    "account_sid",
    "auth_token",
    "api_key_sid",
    "from_number",
    "messaging_service_sid",
    "base_url",
    "status_callback",
    "channel",
    "timeout",
    "retries",
    "max_segments",
)


_DROP = object()
"""Leaves the option out."""


def _options(**changes: Any) -> dict[str, Any]:
    options: dict[str, Any] = {"account_sid": ACCOUNT, "auth_token": TOKEN, "from_number": SENDER}
    options.update(changes)
    return {key: value for key, value in options.items() if value is not _DROP}


def test_defaults() -> None:
    settings = TwilioSettings.from_options(_options())
    assert (settings.account_sid, settings.auth_token) == (ACCOUNT, TOKEN)
    assert settings.from_number == SENDER
    assert settings.api_key_sid is None and settings.messaging_service_sid is None
    assert settings.base_url == DEFAULT_BASE_URL == "https://api.twilio.com"
    assert settings.status_callback is None
    assert settings.channel == "sms"
    assert settings.timeout == 10.0 and isinstance(settings.timeout, float)
    assert settings.retries == 2
    assert settings.max_segments == 10
    assert settings.username == ACCOUNT
    assert settings.messages_url == (
        f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    )


def test_every_option_can_be_set() -> None:
    settings = TwilioSettings.from_options(
        _options(
            from_number=_DROP,
            api_key_sid=KEY,
            messaging_service_sid=SERVICE,
            base_url="https://egress.internal:8443/twilio/",
            status_callback="https://app.example.org/twilio/status?t=abc",
            channel="text",
            timeout=3,
            retries=0,
            max_segments=24,
        )
    )
    assert (settings.api_key_sid, settings.messaging_service_sid) == (KEY, SERVICE)
    assert settings.from_number is None
    assert settings.username == KEY  # the API key authenticates, not the account SID
    assert settings.messages_url == (
        f"https://egress.internal:8443/twilio/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    )
    assert settings.status_callback == "https://app.example.org/twilio/status?t=abc"
    assert (settings.channel, settings.timeout, settings.retries) == ("text", 3.0, 0)
    assert settings.max_segments == 24
    notifier = TwilioNotifier(settings)
    assert (notifier.channel, notifier.requires_address) == ("text", True)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "http://localhost:8080/",
        "http://[::1]:9000",
        "http://127.0.0.2",
        "https://api.dublin.ie1.twilio.com",
        "HTTPS://API.TWILIO.COM",
    ],
)
def test_loopback_hosts_may_use_http_and_any_host_https(url: str) -> None:
    assert TwilioSettings.from_options(_options(base_url=url)).base_url == url


def test_is_loopback_and_is_e164() -> None:
    assert [is_loopback_host(h) for h in ("localhost", "127.0.0.1", "::1", "LOCALHOST")] == [
        True
    ] * 4
    assert [is_loopback_host(h) for h in ("10.0.0.1", "example.org", "", None, "::2")] == [
        False
    ] * 5
    assert is_e164("+4915112345678") and is_e164("+12345678") and is_e164("+123456789012345")
    for bad in ("+1234567", "+1234567890123456", "4915112345678", "+0151123456", "+49 151 1234"):
        assert not is_e164(bad)
    assert not is_e164("+4915112345678\n") and not is_e164(4915112345678)
    assert not is_e164("+٤٩١٥١١٢٣٤٥٦٧٨")  # Arabic-Indic digits are digits, not E.164


BAD_OPTIONS: list[tuple[str, dict[str, Any]]] = [
    ("unknown: endpoint", _options(endpoint="https://x.example")),
    ("unknown: retry", _options(retry=2)),
    ("unknown: authToken", _options(authToken=TOKEN)),
    ("missing: account_sid", _options(account_sid=_DROP)),
    ("missing: auth_token", _options(auth_token=_DROP)),
    ("account_sid: not a string", _options(account_sid=42)),
    ("account_sid: wrong prefix", _options(account_sid="SK" + ACCOUNT[2:])),
    ("account_sid: too short", _options(account_sid=ACCOUNT[:-1])),
    ("account_sid: too long", _options(account_sid=ACCOUNT + "0")),
    ("account_sid: upper-case hex", _options(account_sid="AC" + "ABCDEF0123456789" * 2)),
    ("account_sid: not hex", _options(account_sid="AC" + "g" * 32)),
    ("account_sid: None", _options(account_sid=None)),
    ("auth_token: None", _options(auth_token=None)),
    ("auth_token: empty", _options(auth_token="")),
    ("auth_token: too short", _options(auth_token=TOKEN[:15])),
    ("auth_token: space", _options(auth_token=TOKEN[:16] + " " + TOKEN[16:])),
    ("auth_token: newline", _options(auth_token=TOKEN + "\n")),
    ("auth_token: non-ASCII", _options(auth_token=TOKEN + "é")),
    ("auth_token: bytes", _options(auth_token=TOKEN.encode())),
    ("auth_token: too long", _options(auth_token=TOKEN * 5)),
    ("api_key_sid: wrong prefix", _options(api_key_sid="AC" + KEY[2:])),
    ("api_key_sid: short", _options(api_key_sid=KEY[:-2])),
    ("api_key_sid: empty", _options(api_key_sid="")),
    ("from_number: no plus", _options(from_number=SENDER[1:])),
    ("from_number: spaces", _options(from_number="+1 501 712 2661")),
    ("from_number: too short", _options(from_number="+1234567")),
    ("from_number: too long", _options(from_number="+1234567890123456")),
    ("from_number: leading zero", _options(from_number="+0501712266")),
    ("from_number: int", _options(from_number=15017122661)),
    ("from_number: alphanumeric", _options(from_number="CLINIC")),
    ("messaging_service_sid: wrong prefix", _options(messaging_service_sid="MS" + SERVICE[2:])),
    ("messaging_service_sid: short", _options(from_number=None, messaging_service_sid="MG12")),
    ("sender: both", _options(messaging_service_sid=SERVICE)),
    ("sender: neither", _options(from_number=_DROP)),
    ("sender: both None", _options(from_number=None, messaging_service_sid=None)),
    ("base_url: not a string", _options(base_url=443)),
    ("base_url: empty", _options(base_url="")),
    ("base_url: no scheme", _options(base_url="api.twilio.com")),
    ("base_url: ftp", _options(base_url="ftp://api.twilio.com")),
    ("base_url: http remote", _options(base_url="http://api.twilio.com")),
    ("base_url: http private", _options(base_url="http://10.1.2.3:8080")),
    ("base_url: http lookalike", _options(base_url="http://localhost.evil-Qx9.example")),
    ("base_url: no host", _options(base_url="https:///2010-04-01")),
    ("base_url: credentials", _options(base_url=f"https://{ACCOUNT}:pw-Qx9@api.twilio.com")),
    ("base_url: query", _options(base_url="https://api.twilio.com/?token=Qx9")),
    ("base_url: empty query", _options(base_url="https://api.twilio.com/?")),
    ("base_url: fragment", _options(base_url="https://api.twilio.com/#Qx9")),
    ("base_url: bad port", _options(base_url="https://api.twilio.com:99999")),
    ("base_url: whitespace", _options(base_url="https://api.twilio.com/a b")),
    ("base_url: control char", _options(base_url="https://api.twilio.com/\x00")),
    ("status_callback: http", _options(status_callback="http://app.example.org/Qx9")),
    ("status_callback: relative", _options(status_callback="/twilio/status-Qx9")),
    ("status_callback: fragment", _options(status_callback="https://app.example.org/#Qx9")),
    ("status_callback: not a string", _options(status_callback=True)),
    ("status_callback: empty", _options(status_callback="")),
    ("channel: empty", _options(channel="")),
    ("channel: blank", _options(channel="  ")),
    ("channel: padded", _options(channel=" sms")),
    ("channel: not a string", _options(channel=5)),
    ("timeout: zero", _options(timeout=0)),
    ("timeout: negative", _options(timeout=-1.5)),
    ("timeout: string", _options(timeout="10")),
    ("timeout: bool", _options(timeout=True)),
    ("timeout: nan", _options(timeout=float("nan"))),
    ("timeout: inf", _options(timeout=float("inf"))),
    ("timeout: too long", _options(timeout=301)),
    ("retries: negative", _options(retries=-1)),
    ("retries: too many", _options(retries=11)),
    ("retries: float", _options(retries=1.5)),
    ("retries: bool", _options(retries=True)),
    ("retries: string", _options(retries="2")),
    ("max_segments: zero", _options(max_segments=0)),
    ("max_segments: too many", _options(max_segments=25)),
    ("max_segments: float", _options(max_segments=2.0)),
    ("max_segments: bool", _options(max_segments=False)),
    ("max_segments: None", _options(max_segments=None)),
]


@pytest.mark.parametrize(("case", "options"), BAD_OPTIONS, ids=[c for c, _ in BAD_OPTIONS])
def test_a_bad_option_is_a_configuration_error_naming_it_without_the_value(
    case: str, options: dict[str, Any]
) -> None:
    before = copy.deepcopy(options)
    with pytest.raises(ConfigurationError) as refused:
        TwilioNotifier.from_options(options)
    message = str(refused.value)
    subject, _, detail = case.partition(": ")
    if subject in OPTION_NAMES:
        assert repr(subject) in message  # it names the option at fault
    elif subject == "sender":
        assert "'from_number'" in message and "'messaging_service_sid'" in message
    elif subject in ("unknown", "missing"):
        assert detail.split()[0] in message and f"{subject} twilio options" in message
    for value in options.values():  # no value given is echoed (names and numbers aside)
        if isinstance(value, str) and len(value) > 6 and value not in OPTION_NAMES:
            assert value not in message
    assert TOKEN not in message and TOKEN[:16] not in message
    assert "Qx9" not in message  # neither a URL's token nor its password
    assert refused.value.__cause__ is None
    assert options == before  # nothing changed


def test_options_must_be_a_mapping_with_string_names() -> None:
    with pytest.raises(ConfigurationError, match="must be a mapping"):
        TwilioSettings.from_options([("account_sid", ACCOUNT)])  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="every name must be a string"):
        TwilioSettings.from_options({**_options(), 1: "x"})  # type: ignore[dict-item]


def test_the_constructor_and_evolve_validate_as_from_options_does() -> None:
    with pytest.raises(ConfigurationError, match="'base_url'"):
        TwilioSettings(
            account_sid=ACCOUNT, auth_token=TOKEN, from_number=SENDER, base_url="http://x.org"
        )
    settings = TwilioSettings(account_sid=ACCOUNT, auth_token=TOKEN, from_number=SENDER)
    with pytest.raises(ConfigurationError, match="'retries'"):
        attrs.evolve(settings, retries=-1)
    with pytest.raises(ConfigurationError, match="exactly one"):
        attrs.evolve(settings, messaging_service_sid=SERVICE)
    switched = attrs.evolve(settings, from_number=None, messaging_service_sid=SERVICE)
    assert (switched.from_number, switched.messaging_service_sid) == (None, SERVICE)
    assert settings.from_number == SENDER  # frozen: the original is unchanged
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        settings.retries = 5  # type: ignore[misc]


def test_a_notifier_needs_settings() -> None:
    with pytest.raises(TypeError):
        TwilioNotifier(_options())  # type: ignore[arg-type]


def test_the_auth_token_and_status_callback_are_in_no_repr() -> None:
    callback = "https://app.example.org/status?key=callback-secret-Qx9"
    settings = TwilioSettings.from_options(_options(status_callback=callback, api_key_sid=KEY))
    notifier = TwilioNotifier(settings)
    for text in (repr(settings), str(settings), repr(notifier), str(notifier)):
        assert TOKEN not in text and "callback-secret" not in text
    assert "auth_token" not in repr(settings) and "status_callback" not in repr(settings)
    assert ACCOUNT in repr(settings) and KEY in repr(settings)  # ids, not secrets
    assert repr(notifier) == "TwilioNotifier(channel='sms')"
