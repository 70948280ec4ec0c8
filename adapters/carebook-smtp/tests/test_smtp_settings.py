"""Every bad option is a ConfigurationError naming it, and the password never shows."""

from __future__ import annotations

from typing import Any

import pytest

from carebook.errors import ConfigurationError
from carebook_smtp import SmtpNotifier, SmtpSettings

SECRET = "pw-7f3a-never-shown"
GOOD: dict[str, Any] = {"host": "mail.clinic.test", "sender": "desk@clinic.test"}


def test_defaults_and_ports_follow_the_security_mode() -> None:
    settings = SmtpSettings.from_options(GOOD)
    assert (settings.security, settings.effective_port, settings.timeout) == ("starttls", 587, 10)
    assert SmtpSettings.from_options({**GOOD, "security": "tls"}).effective_port == 465
    assert SmtpSettings.from_options({**GOOD, "security": "none"}).effective_port == 25
    assert SmtpSettings.from_options({**GOOD, "port": 2525}).effective_port == 2525


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"host": ""}, "host"),
        ({"host": "bad host name"}, "host"),
        ({"host": 42}, "host"),
        ({"sender": "not-an-address"}, "sender"),
        ({"sender": "a@b@c"}, "sender"),
        ({"security": "ssl3"}, "security"),
        ({"port": -1}, "port"),
        ({"port": 70000}, "port"),
        ({"port": "587"}, "port"),
        ({"port": True}, "port"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": "10"}, "timeout"),
        ({"timeout": 1000}, "timeout"),
        ({"username": "desk"}, "password"),
        ({"password": SECRET}, "username"),
        ({"username": "", "password": SECRET}, "username"),
        ({"username": "desk", "password": SECRET, "security": "none"}, "unencrypted"),
        ({"ca_file": 3}, "ca_file"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_option_is_refused_by_name(change: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        SmtpNotifier.from_options({**GOOD, **change})
    assert named in str(refused.value)
    assert SECRET not in str(refused.value)


@pytest.mark.parametrize("missing", ["host", "sender"])
def test_host_and_sender_are_required(missing: str) -> None:
    options = dict(GOOD)
    del options[missing]
    with pytest.raises(ConfigurationError, match=missing):
        SmtpSettings.from_options(options)


def test_the_password_is_not_in_the_repr() -> None:
    settings = SmtpSettings.from_options({**GOOD, "username": "desk", "password": SECRET})
    assert SECRET not in repr(settings)
    assert SECRET not in repr(SmtpNotifier(settings).settings)
