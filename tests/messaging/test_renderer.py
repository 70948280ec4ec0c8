"""The built-in renderer (docs/notifications.md): every shipped template in every
language, the fallback to English, overrides, escaping, Babel formatting, and template
errors refused when the renderer is built, never at send time."""

from __future__ import annotations

import uuid

import attrs
import pendulum
import pytest

from carebook.builtin.rendering import KINDS, TemplateRenderer
from carebook.domain.ids import AppointmentId, EventId
from carebook.domain.messaging import MessageContext
from carebook.domain.money import Money
from carebook.domain.notifications import Notification
from carebook.errors import ConfigurationError

RENDERER = TemplateRenderer()
ROLES = ("patient", "practitioner", "previous_practitioner")


def context(
    kind: str = "appointment_booked",
    locale: str = "en",
    *,
    role: str = "patient",
    start: pendulum.DateTime | None = None,
    **fields: object,
) -> MessageContext:
    start = start or pendulum.datetime(2026, 3, 29, 8, 30, tz="UTC")  # Berlin: 10:30 CEST
    notification = Notification(
        kind=kind,
        recipient_role=role,
        recipient_id=uuid.uuid4(),
        appointment_id=AppointmentId(uuid.uuid4()),
        event_id=EventId(uuid.uuid4()),
        correlation_id="c",
    )
    values: dict[str, object] = {
        "notification": notification,
        "locale": locale,
        "timezone": "Europe/Berlin",
        "organisation_name": "Northside Clinics",
        "location_name": "High Street",
        "practitioner_name": "Dr Grey",
        "service_name": "Check-up",
        "start": start,
        "end": start.add(minutes=30),
    }
    return MessageContext(**(values | fields))  # type: ignore[arg-type]


def test_english_german_and_hindi_are_shipped() -> None:
    assert RENDERER.languages == ["en", "de", "hi"]


@pytest.mark.parametrize("language", ["en", "de", "hi"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_in_every_language_for_every_role(language: str, kind: str) -> None:
    for role in ROLES:
        email = RENDERER.render(context(kind, language, role=role), "email")
        sms = RENDERER.render(context(kind, language, role=role), "sms")
        assert email.locale == sms.locale == language
        assert email.subject and "\n" not in email.subject
        assert email.text and email.html and f'lang="{language}"' in email.html
        assert sms.html is None and 0 < len(sms.text) <= 320
        assert "{{" not in email.text + email.subject + sms.text


def test_each_language_says_it_in_its_own_words() -> None:
    texts = {
        lang: RENDERER.render(context("appointment_reminder", lang), "email").text
        for lang in ("en", "de", "hi")
    }
    assert "Sunday, March 29, 2026, 10:30" in texts["en"]  # after the DST change: CEST
    assert "Sonntag, 29. März 2026, 10:30" in texts["de"]
    assert "रविवार, 29 मार्च 2026" in texts["hi"]
    assert "Berlin" in texts["en"] and "बर्लिन" in texts["hi"]


@pytest.mark.parametrize(
    ("requested", "used"), [("de-AT", "de"), ("hi-IN", "hi"), ("fr", "en"), ("pt-BR", "en")]
)
def test_a_missing_translation_falls_back_to_the_language_then_english(
    requested: str, used: str
) -> None:
    rendered = RENDERER.render(context(locale=requested), "email")
    assert rendered.locale == used


def test_a_regional_tag_formats_with_its_region() -> None:
    us = RENDERER.render(context(locale="en"), "email").text
    gb = RENDERER.render(context(locale="en-GB"), "email").text
    assert "10:30\u202fAM" in us and "Sunday, 29 March 2026, 10:30" in gb


def test_an_unknown_kind_uses_the_generic_template() -> None:
    rendered = RENDERER.render(context("waitlist_offer", "de"), "email")
    assert rendered.locale == "de" and "Neuigkeiten" in rendered.text


def test_html_is_escaped_and_text_is_not() -> None:
    rendered = RENDERER.render(context(location_name="<b>Lab & Co</b>"), "email")
    assert "<b>Lab & Co</b>" in rendered.text
    assert "&lt;b&gt;Lab &amp; Co&lt;/b&gt;" in (rendered.html or "")
    assert "<b>Lab" not in (rendered.html or "")


def test_money_is_formatted_in_the_recipients_locale() -> None:
    source = "{% block subject %}x{% endblock %}{% block text %}{{ price | money }}{% endblock %}"
    renderer = TemplateRenderer({"de/generic.txt": source, "hi/generic.txt": source})
    german = renderer.render(context("other", "de", price=Money(6000, "EUR")), "email")
    hindi = renderer.render(context("other", "hi", price=Money(125000, "INR")), "email")
    assert german.text == "60,00\xa0€"
    assert hindi.text == "₹1,250.00"


def test_an_override_replaces_a_template_and_can_add_a_language() -> None:
    renderer = TemplateRenderer(
        {
            "de/appointment_booked.txt": (
                "{% block subject %}Gebucht bei {{ organisation }}{% endblock %}"
                "{% block text %}Bis {{ start | date('short') }}!{% endblock %}"
            ),
            "fr/appointment_booked.txt": (
                "{% block subject %}Rendez-vous confirmé{% endblock %}"
                "{% block text %}Le {{ start | date }}{% endblock %}"
            ),
        }
    )
    german = renderer.render(context(locale="de"), "email")
    assert (german.subject, german.text) == ("Gebucht bei Northside Clinics", "Bis 29.03.26!")
    french = renderer.render(context(locale="fr"), "email")
    assert (french.locale, french.text) == ("fr", "Le dimanche 29 mars 2026")
    assert renderer.render(context("appointment_cancelled", "fr"), "email").locale == "en"
    assert "fr" in renderer.languages


@pytest.mark.parametrize(
    ("source", "says"),
    [
        ("{% block subject %}{{ start | date {% endblock %}", "line 1"),
        ("{% block subject %}{{ patient_name }}{% endblock %}", "UndefinedError"),
        ("{% block subject %}{{ start | nosuchfilter }}{% endblock %}", "nosuchfilter"),
        ("{% block subject %}{{ start.__class__.__mro__ }}{% endblock %}", "SecurityError"),
        ("{% block subject %}{{ practitioner.upper() }}{% endblock %}", "fails on"),
    ],
)
def test_a_broken_template_is_refused_when_the_renderer_is_built(source: str, says: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        TemplateRenderer({"de/appointment_booked.txt": source})
    assert "de/appointment_booked.txt" in str(refused.value)
    assert says in str(refused.value)


@pytest.mark.parametrize("name", ["../etc/passwd", "de/Booked.txt", "appointment_booked.txt"])
def test_a_template_name_outside_the_scheme_is_refused(name: str) -> None:
    with pytest.raises(ConfigurationError):
        TemplateRenderer({name: "{% block subject %}x{% endblock %}"})


def test_the_context_repr_and_the_rendered_repr_show_no_names() -> None:
    ctx = context(location_name="Sentinel Street", practitioner_name="Dr Sentinel")
    rendered = RENDERER.render(ctx, "email")
    assert "Sentinel" not in repr(ctx) + repr(rendered)
    assert "Sentinel" in rendered.text
    assert attrs.evolve(ctx, locale="de").locale == "de"
