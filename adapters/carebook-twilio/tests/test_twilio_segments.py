"""Segment counts: GSM-7 (basic table one septet, extension table two) and UCS-2
(surrogate pairs two units), the 160/153 and 70/67 limits, pairs never split; and the
notifier refusing a text over max_segments before sending."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carebook.testing.contracts.channel import make_outbound
from carebook_twilio import SmsBodyError, SmsTooLongError, TwilioNotifier, count_segments
from carebook_twilio.segments import GSM7_BASIC, GSM7_EXTENSION, is_gsm7
from carebook_twilio.testing import TwilioStandIn

MakeTwilioNotifier = Callable[..., TwilioNotifier]

pytest_plugins = ["carebook_twilio.fixtures"]


NUMBER = "+4915112345678"
HINDI = "न"  # DEVANAGARI LETTER NA: in no GSM table
EMOJI = "😀"  # outside the BMP: a surrogate pair in UTF-16


def _count(text: str) -> tuple[str, int, int]:
    counted = count_segments(text)
    return counted.encoding, counted.units, counted.segments


def test_the_gsm7_tables_have_their_sizes_and_known_members() -> None:
    assert len(GSM7_BASIC) == 127  # 128 codes, one of them the escape
    assert len(GSM7_EXTENSION) == 10
    assert GSM7_BASIC.isdisjoint(GSM7_EXTENSION)
    for char in "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà":
        assert char in GSM7_BASIC
    assert set("\f^{}\\[~]|€") == GSM7_EXTENSION
    for char in ("\x1b", "ç", "á", "`", "α", "’", "\u202f", HINDI, EMOJI):
        assert char not in GSM7_BASIC | GSM7_EXTENSION


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ("GSM-7", 0, 1)),
        ("a" * 160, ("GSM-7", 160, 1)),
        ("a" * 161, ("GSM-7", 161, 2)),
        ("a" * 306, ("GSM-7", 306, 2)),  # 2 × 153
        ("a" * 307, ("GSM-7", 307, 3)),
        ("Grüße aus München, Ærø & Ødegård!", ("GSM-7", 33, 1)),
    ],
)
def test_gsm7_basic_characters_cost_one_septet(text: str, expected: tuple[str, int, int]) -> None:
    assert _count(text) == expected


def test_every_basic_character_costs_one_and_every_extension_character_two() -> None:
    basic = "".join(sorted(GSM7_BASIC))
    extension = "".join(sorted(GSM7_EXTENSION))
    assert _count(basic) == ("GSM-7", 127, 1)
    assert _count(extension) == ("GSM-7", 20, 1)
    assert _count(basic + extension) == ("GSM-7", 147, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("€" * 80, ("GSM-7", 160, 1)),
        ("€" * 81, ("GSM-7", 162, 2)),
        ("a" * 159 + "€", ("GSM-7", 161, 2)),  # 160 characters, 161 septets
        ("a" * 158 + "[]"[:1], ("GSM-7", 160, 1)),
        ("{" * 153, ("GSM-7", 306, 3)),  # 76 pairs fit in a segment of 153, not 76.5
    ],
)
def test_extension_characters_cost_two_septets(text: str, expected: tuple[str, int, int]) -> None:
    assert _count(text) == expected


def test_an_escape_pair_is_not_split_across_segments() -> None:
    # 152 + 2 would be 154 > 153: the € starts segment 2, which then holds 2 + 151,
    # and the last "a" needs a third. Counting septets alone (306) would say 2.
    text = "a" * 152 + "€" + "a" * 152
    assert _count(text) == ("GSM-7", 306, 3)
    assert _count("a" * 151 + "€" + "a" * 153) == ("GSM-7", 306, 2)  # the pair fits exactly


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HINDI * 70, ("UCS-2", 70, 1)),
        (HINDI * 71, ("UCS-2", 71, 2)),
        (HINDI * 134, ("UCS-2", 134, 2)),  # 2 × 67
        (HINDI * 135, ("UCS-2", 135, 3)),
        (EMOJI * 35, ("UCS-2", 70, 1)),
        (EMOJI * 36, ("UCS-2", 72, 2)),
        ("a" * 69 + "ç", ("UCS-2", 70, 1)),  # one non-GSM character turns all into UCS-2
        ("a" * 70 + "ç", ("UCS-2", 71, 2)),
        ("a" * 159 + "’", ("UCS-2", 160, 3)),  # a curly quote: 160 units, 67 + 67 + 26
        ("आपकी अपॉइंटमेंट बुक हो गई है।", ("UCS-2", 29, 1)),
        ("Grüße 😀", ("UCS-2", 8, 1)),  # six characters and a pair
        ("€" * 70 + EMOJI, ("UCS-2", 72, 2)),  # in UCS-2 the € costs one unit
    ],
)
def test_ucs2_counts_utf16_code_units(text: str, expected: tuple[str, int, int]) -> None:
    assert _count(text) == expected


def test_a_surrogate_pair_is_not_split_across_segments() -> None:
    text = HINDI * 66 + EMOJI + HINDI * 66  # 134 units, but the emoji cannot straddle
    assert _count(text) == ("UCS-2", 134, 3)
    assert _count(HINDI * 65 + EMOJI + HINDI * 67) == ("UCS-2", 134, 2)


def test_is_gsm7() -> None:
    assert is_gsm7("") and is_gsm7("Hello [world] ~ {€}") and is_gsm7("ΔΦΓ")
    assert not is_gsm7("αβγ") and not is_gsm7("\x1b") and not is_gsm7("11:00\u202fAM")


@given(st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION), max_size=700))
def test_gsm7_segments_follow_from_the_septets(text: str) -> None:
    counted = count_segments(text)
    septets = len(text) + sum(1 for char in text if char in GSM7_EXTENSION)
    assert counted.encoding == "GSM-7" and counted.units == septets
    if septets <= 160:
        assert counted.segments == 1
    else:  # at least the plain division, at most one more per split pair
        assert math.ceil(septets / 153) <= counted.segments <= math.ceil(septets / 152)


@given(st.text(min_size=1, max_size=300).filter(lambda t: not is_gsm7(t)))
def test_ucs2_segments_follow_from_the_code_units(text: str) -> None:
    counted = count_segments(text)
    units = len(text.encode("utf-16-le")) // 2
    assert counted.encoding == "UCS-2" and counted.units == units
    if units <= 70:
        assert counted.segments == 1
    else:
        assert math.ceil(units / 67) <= counted.segments <= math.ceil(units / 66)


def test_the_notifier_sends_up_to_max_segments(
    twilio_standin: TwilioStandIn, make_twilio_notifier: MakeTwilioNotifier
) -> None:
    notifier = make_twilio_notifier()  # max_segments = 10
    notifier.deliver(make_outbound("sms", NUMBER, text="a" * 153 * 10))
    notifier.deliver(make_outbound("sms", NUMBER, text=HINDI * 67 * 10))
    assert [m["num_segments"] for m in twilio_standin.messages] == ["10", "10"]


@pytest.mark.parametrize(
    ("text", "max_segments", "segments", "encoding"),
    [
        ("a" * (153 * 10 + 1), 10, 11, "GSM-7"),
        ("€" * 81, 1, 2, "GSM-7"),
        ("a" * 161, 1, 2, "GSM-7"),
        (HINDI * 71, 1, 2, "UCS-2"),
        (HINDI * (67 * 3 + 1), 3, 4, "UCS-2"),
        (EMOJI * 36, 1, 2, "UCS-2"),
    ],
)
def test_a_text_over_max_segments_is_refused_before_sending(
    twilio_standin: TwilioStandIn,
    make_twilio_notifier: MakeTwilioNotifier,
    text: str,
    max_segments: int,
    segments: int,
    encoding: str,
) -> None:
    with pytest.raises(SmsTooLongError) as refused:
        make_twilio_notifier(max_segments=max_segments).deliver(
            make_outbound("sms", NUMBER, text=text)
        )
    error = refused.value
    assert isinstance(error, SmsBodyError) and error.code == "sms_too_long"
    assert (error.segments, error.max_segments, error.encoding) == (
        segments,
        max_segments,
        encoding,
    )
    assert error.length == len(text)
    assert f"needs {segments} {encoding} segments ({len(text)} characters)" in str(error)
    assert text[:5] not in str(error)
    assert twilio_standin.requests == []


def test_a_text_over_1600_characters_is_refused_whatever_max_segments_allows(
    twilio_standin: TwilioStandIn, make_twilio_notifier: MakeTwilioNotifier
) -> None:
    notifier = make_twilio_notifier(max_segments=24)
    notifier.deliver(make_outbound("sms", NUMBER, text="a" * 1600))  # 11 segments
    with pytest.raises(SmsTooLongError) as refused:
        notifier.deliver(make_outbound("sms", NUMBER, text="a" * 1601))
    assert (refused.value.segments, refused.value.length) == (11, 1601)
    assert [m["num_segments"] for m in twilio_standin.messages] == ["11"]
