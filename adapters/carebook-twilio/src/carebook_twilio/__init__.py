"""carebook-twilio: carebook's rendered notices as SMS through Twilio's REST API.

The API is spoken with the standard library (no ``twilio`` package); see
:mod:`carebook_twilio.notifier` for the request and the retries,
:mod:`carebook_twilio.segments` for the segment count, and :mod:`carebook_twilio.testing`
for a stand-in Twilio to test against.
"""

from __future__ import annotations

from carebook_twilio.errors import (
    SmsAddressError,
    SmsBodyError,
    SmsRefusedError,
    SmsTooLongError,
    TwilioDeliveryError,
)
from carebook_twilio.notifier import TwilioNotifier, backoff_delay, parse_retry_after
from carebook_twilio.segments import SegmentCount, count_segments
from carebook_twilio.settings import TwilioSettings

__all__ = [
    "SegmentCount",
    "SmsAddressError",
    "SmsBodyError",
    "SmsRefusedError",
    "SmsTooLongError",
    "TwilioDeliveryError",
    "TwilioNotifier",
    "TwilioSettings",
    "backoff_delay",
    "count_segments",
    "parse_retry_after",
]

__version__ = "0.1.0"
