"""The built-in renderer of notifications (needs the ``carebook[messages]`` extra:
Jinja2 and Babel). See docs/notifications.md."""

from carebook.builtin.rendering.renderer import KINDS, TemplateRenderer

__all__ = ["KINDS", "TemplateRenderer"]
