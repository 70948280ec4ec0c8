"""The built-in MessageRenderer: sandboxed Jinja2 templates, formatted with Babel.

Templates are named ``<language>/<kind>.txt``: blocks ``subject``, ``text`` and an
optional ``sms`` (a short text for SMS). ``<language>/<kind>.html`` is the HTML body
when present; otherwise ``layout.html`` wraps the text's paragraphs. A kind with no
template of its own uses ``<language>/generic.txt``. Languages are tried from the
recipient's tag to its primary language to English, so a missing translation falls
back to English.

Every template is compiled, and rendered once with a full and a sparse sample, when the
renderer is built: an error is a ConfigurationError then, never a crash at send time.
Overrides (a mapping of template names to sources, or the
``carebook_register_templates`` hook) take precedence over the shipped templates and
may add languages.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import jinja2
import pendulum
from jinja2.sandbox import SandboxedEnvironment

from carebook.builtin.rendering.formatting import FILTERS
from carebook.domain.ids import AppointmentId, EventId
from carebook.domain.messaging import MessageContext, RenderedMessage
from carebook.domain.money import Money
from carebook.domain.notifications import Notification
from carebook.errors import AdapterError, ConfigurationError

__all__ = ["KINDS", "TemplateRenderer"]

KINDS = (
    "appointment_booked",
    "appointment_confirmed",
    "appointment_cancelled",
    "appointment_rescheduled",
    "appointment_reminder",
    "appointment_noshow",
    "patient_arrived",
    "session_started",
    "session_completed",
)
"""The notification kinds carebook sends, each with a shipped template."""

ROLES = ("patient", "practitioner", "previous_practitioner")
_NAME = re.compile(r"^(?:layout\.html|[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*/[a-z_]+\.(?:txt|html))$")
FALLBACK = "en"


class TemplateRenderer:
    """Renders a notification's context for a channel (see the module docstring)."""

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        overrides = dict(overrides or {})
        for name, source in overrides.items():
            if not isinstance(name, str) or not _NAME.match(name):
                raise ConfigurationError(
                    "a template name is 'layout.html' or '<language>/<kind>.txt' or '.html'"
                )
            if not isinstance(source, str):
                raise ConfigurationError(f"template {name}: the source must be a string")
        self._env = SandboxedEnvironment(
            loader=jinja2.ChoiceLoader(
                [
                    jinja2.DictLoader(overrides),
                    jinja2.PackageLoader("carebook.builtin.rendering", "templates"),
                ]
            ),
            autoescape=jinja2.select_autoescape(
                enabled_extensions=("html",), default_for_string=False, default=False
            ),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters.update(FILTERS)
        self._names = frozenset(self._env.list_templates())
        for name in sorted(self._names):
            self._template(name, compile_only=True)
        self._check()

    @property
    def languages(self) -> list[str]:
        """The languages with templates, English first."""
        found = {name.split("/")[0] for name in self._names if "/" in name}
        return sorted(found, key=lambda tag: (tag != FALLBACK, tag))

    def render(self, context: MessageContext, channel: str) -> RenderedMessage:
        language, kind = self._choose(context.locale, context.kind)
        variables = _variables(context, language)
        try:
            return self._render(language, kind, channel, variables)
        except Exception as exc:  # data the samples did not foresee: retried, then dead
            raise AdapterError(f"template {language}/{kind} failed: {type(exc).__name__}") from None

    def _choose(self, tag: str, kind: str) -> tuple[str, str]:
        for language in dict.fromkeys((tag, tag.split("-")[0], FALLBACK)):
            for name in (kind, "generic"):
                if f"{language}/{name}.txt" in self._names:
                    return language, name
        raise ConfigurationError(f"no template for {kind} in any language, not even English")

    def _render(
        self, language: str, kind: str, channel: str, variables: dict[str, Any]
    ) -> RenderedMessage:
        template = self._template(f"{language}/{kind}.txt")
        parts = {block: _block(template, block, variables) for block in template.blocks}
        subject = " ".join(parts.get("subject", "").split())
        text = parts.get("text", "").strip()
        if channel == "sms":
            return RenderedMessage(
                locale=language, subject=subject, text=parts.get("sms", "").strip() or text
            )
        html_name = f"{language}/{kind}.html"
        html_variables = variables | {"subject": subject, "paragraphs": _paragraphs(text)}
        html_template = self._template(html_name if html_name in self._names else "layout.html")
        html = html_template.render(html_variables).strip()
        return RenderedMessage(locale=language, subject=subject, text=text, html=html)

    def _template(self, name: str, *, compile_only: bool = False) -> jinja2.Template:
        try:
            return self._env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigurationError(f"template {name}, line {exc.lineno}: {exc.message}") from None
        except jinja2.TemplateNotFound:
            raise ConfigurationError(f"template {name} is missing") from None

    def _check(self) -> None:
        """Render every template with a full and a sparse sample, on both channels."""
        if "layout.html" not in self._names:
            raise ConfigurationError("template layout.html is missing")
        for name in sorted(self._names):
            if name == "layout.html" or not name.endswith(".txt"):
                continue
            language, kind = name.removesuffix(".txt").split("/")
            for context in _samples(language, kind):
                for channel in ("email", "sms"):
                    try:
                        self._render(language, kind, channel, _variables(context, language))
                    except Exception as exc:  # any failure: the template is unusable
                        raise ConfigurationError(
                            f"template {name} fails on a {context.recipient_role} sample: "
                            f"{type(exc).__name__}: {exc}"
                        ) from None


def _block(template: jinja2.Template, block: str, variables: dict[str, Any]) -> str:
    context = template.new_context(variables)
    return "".join(template.blocks[block](context))


def _paragraphs(text: str) -> list[list[str]]:
    """The text's paragraphs (split on blank lines), each a list of its lines."""
    return [p.splitlines() for p in re.split(r"\n\s*\n", text) if p.strip()]


def _variables(context: MessageContext, language: str) -> dict[str, Any]:
    return {
        "kind": context.kind,
        "role": context.recipient_role,
        "locale": context.locale if context.locale.startswith(language) else language,
        "language": language,
        "timezone": context.timezone,
        "organisation": context.organisation_name,
        "location": context.location_name,
        "practitioner": context.practitioner_name,
        "service": context.service_name,
        "start": context.start,
        "end": context.end,
        "price": context.price,
    }


def _samples(language: str, kind: str) -> Iterator[MessageContext]:
    start = pendulum.datetime(2026, 3, 29, 8, 30, tz="UTC")
    for role in ROLES:
        notification = Notification(
            kind=kind,
            recipient_role=role,
            recipient_id=uuid.UUID(int=1),
            appointment_id=AppointmentId(uuid.UUID(int=2)),
            event_id=EventId(uuid.UUID(int=3)),
            correlation_id="sample",
            locale=language,
        )
        yield MessageContext(
            notification=notification,
            locale=language,
            timezone="Europe/Berlin",
            organisation_name="Sample Clinic",
            location_name="Sample Office",
            practitioner_name="Dr. Sample",
            service_name="Sample visit",
            start=start,
            end=start.add(minutes=30),
            price=Money(6000, "EUR"),
        )
    yield MessageContext(  # no practitioner, service or price: a template copes
        notification=notification,
        locale=language,
        timezone="Asia/Kolkata",
        organisation_name="Sample Clinic",
        location_name="Sample Office",
        start=start,
        end=start.add(minutes=30),
    )
