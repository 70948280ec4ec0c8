"""check_option_names: the one check behind every ``from_options``: a mapping of known
field names, or a ConfigurationError that names the unknown keys and no value."""

from __future__ import annotations

from typing import Any

import pytest
from attrs import frozen

from carebook.domain.delivery import RetryPolicy
from carebook.domain.validators import check_option_names
from carebook.errors import ConfigurationError


@frozen
class _Settings:
    host: str
    port: int = 0


def test_known_names_pass_through_unchanged() -> None:
    options = {"host": "mail.example", "port": 25}
    assert check_option_names(_Settings, options, "smtp options") is options


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"host": "h", "hots": "secret-value"}, r"unknown smtp options: \['hots'\]"),
        (["host"], "smtp options must be a mapping"),
        ({1: "h"}, "every name must be a string"),
    ],
)
def test_bad_options_are_refused_without_their_values(options: Any, message: str) -> None:
    snapshot = dict(options) if isinstance(options, dict) else list(options)
    with pytest.raises(ConfigurationError, match=message) as caught:
        check_option_names(_Settings, options, "smtp options")
    assert "secret-value" not in str(caught.value)
    assert options == snapshot  # nothing changed


def test_retry_policy_refuses_a_list_with_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="delivery options must be a mapping"):
        RetryPolicy.from_options(["max_attempts"])  # type: ignore[arg-type]
