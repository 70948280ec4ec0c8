"""Settings: defaults, and a ConfigurationError for every bad option that never shows the
secret (nor the URL given)."""

from __future__ import annotations

import base64
from typing import Any

import attrs
import pytest
from standardwebhooks.webhooks import Webhook

from carebook.errors import ConfigurationError
from carebook_webhooks import WebhookNotifier, WebhookSettings, generate_secret

pytest_plugins = ["carebook_webhooks.fixtures"]


SECRET = generate_secret()
URL = "https://hooks.example.org/carebook?token=url-token-Qx9"


def _options(**changes: Any) -> dict[str, Any]:
    options: dict[str, Any] = {"url": URL, "secret": SECRET}
    options.update(changes)
    return options


def test_defaults() -> None:
    settings = WebhookSettings.from_options(_options())
    assert (settings.url, settings.secret) == (URL, SECRET)
    assert settings.channel == "webhook"
    assert settings.requires_address is False
    assert settings.timeout == 5.0 and isinstance(settings.timeout, float)
    assert settings.retries == 3


def test_every_option_can_be_set() -> None:
    settings = WebhookSettings.from_options(
        _options(
            url="http://10.0.0.7:8080/hook",
            channel="push",
            requires_address=True,
            timeout=2,
            retries=0,
        )
    )
    assert settings.url == "http://10.0.0.7:8080/hook"
    assert (settings.channel, settings.requires_address) == ("push", True)
    assert (settings.timeout, settings.retries) == (2.0, 0)
    notifier = WebhookNotifier(settings)
    assert (notifier.channel, notifier.requires_address) == ("push", True)


def test_an_unpadded_secret_is_accepted() -> None:
    key = b"k" * 32
    unpadded = "whsec_" + base64.b64encode(key).decode().rstrip("=")
    assert WebhookSettings(url=URL, secret=unpadded).secret == unpadded


BAD_OPTIONS: list[tuple[str, dict[str, Any]]] = [
    ("unknown key", _options(endpoint="https://x.example")),
    ("unknown key: retry", _options(retry=2)),
    ("missing url", {"secret": SECRET}),
    ("missing secret", {"url": URL}),
    ("url: not a string", _options(url=42)),
    ("url: empty", _options(url="")),
    ("url: no scheme", _options(url="hooks.example.org/carebook")),
    ("url: ftp", _options(url="ftp://hooks.example.org/carebook")),
    ("url: no host", _options(url="https:///carebook")),
    ("url: credentials", _options(url="https://user:pw-Qx9@hooks.example.org/")),
    ("url: fragment", _options(url="https://hooks.example.org/#frag")),
    ("url: bad port", _options(url="https://hooks.example.org:99999/")),
    ("url: whitespace", _options(url="https://hooks.example.org/a b")),
    ("url: control char", _options(url="https://hooks.example.org/\x00")),
    ("secret: not a string", _options(secret=b"whsec_" + SECRET[6:].encode())),
    ("secret: no prefix", _options(secret=SECRET[6:])),
    ("secret: wrong prefix", _options(secret="wh_" + SECRET[6:])),
    ("secret: not base64", _options(secret=SECRET[:10] + "!*" + SECRET[12:])),
    ("secret: empty key", _options(secret="whsec_")),
    ("secret: too short", _options(secret="whsec_" + base64.b64encode(b"s" * 23).decode())),
    ("secret: too long", _options(secret="whsec_" + base64.b64encode(b"s" * 65).decode())),
    ("channel: empty", _options(channel="")),
    ("channel: blank", _options(channel="  ")),
    ("channel: padded", _options(channel=" webhook")),
    ("channel: not a string", _options(channel=5)),
    ("requires_address: string", _options(requires_address="yes")),
    ("requires_address: int", _options(requires_address=1)),
    ("timeout: zero", _options(timeout=0)),
    ("timeout: negative", _options(timeout=-1.5)),
    ("timeout: string", _options(timeout="5")),
    ("timeout: bool", _options(timeout=True)),
    ("timeout: nan", _options(timeout=float("nan"))),
    ("timeout: inf", _options(timeout=float("inf"))),
    ("timeout: too long", _options(timeout=301)),
    ("retries: negative", _options(retries=-1)),
    ("retries: too many", _options(retries=11)),
    ("retries: float", _options(retries=1.5)),
    ("retries: bool", _options(retries=True)),
    ("retries: string", _options(retries="3")),
]


@pytest.mark.parametrize(("case", "options"), BAD_OPTIONS, ids=[c for c, _ in BAD_OPTIONS])
def test_a_bad_option_is_a_configuration_error_without_the_secret(
    case: str, options: dict[str, Any]
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        WebhookNotifier.from_options(options)
    message = str(refused.value)
    option = case.split(":")[0]
    if option in ("url", "secret", "channel", "requires_address", "timeout", "retries"):
        assert repr(option) in message  # it names the option at fault
    secret = options.get("secret")
    for shown in (SECRET, SECRET[6:], secret if isinstance(secret, str) else None):
        if shown and len(shown) > 6:
            assert shown not in message
    assert "Qx9" not in message  # neither the URL's token nor its password
    assert refused.value.__cause__ is None


def test_options_must_be_a_mapping() -> None:
    with pytest.raises(ConfigurationError):
        WebhookSettings.from_options([("url", URL)])  # type: ignore[arg-type]


def test_the_constructor_validates_as_from_options_does() -> None:
    with pytest.raises(ConfigurationError):
        WebhookSettings(url="ftp://x.example/", secret=SECRET)
    settings = WebhookSettings(url=URL, secret=SECRET)
    with pytest.raises(ConfigurationError):
        attrs.evolve(settings, retries=-1)


def test_the_secret_is_in_no_repr() -> None:
    settings = WebhookSettings.from_options(_options())
    notifier = WebhookNotifier(settings)
    for text in (repr(settings), str(settings), repr(notifier), str(notifier)):
        assert SECRET not in text and SECRET[6:] not in text
    assert "secret" not in repr(settings)
    assert repr(notifier) == "WebhookNotifier(channel='webhook')"


def test_generate_secret_gives_a_fresh_valid_secret() -> None:
    first, second = generate_secret(), generate_secret(24)
    assert first != generate_secret()
    assert first.startswith("whsec_")
    assert len(base64.b64decode(first[6:])) == 32 and len(base64.b64decode(second[6:])) == 24
    Webhook(first)  # standardwebhooks accepts it
    assert WebhookSettings(url=URL, secret=second).secret == second
    with pytest.raises(ConfigurationError):
        generate_secret(8)
