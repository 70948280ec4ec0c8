"""carebook-smtp: the ``email`` channel of carebook through SMTP.

``SmtpNotifier`` delivers each rendered notice as an e-mail with text and HTML parts,
and an iCalendar (``.ics``) entry on booking, reschedule and cancellation notices.
Configure it by name::

    CarebookConfig(
        channels=("smtp",),
        channel_options={"smtp": {"host": "mail.example.org", "sender": "desk@example.org",
                                  "username": "desk", "password": "..."}},
        contacts="my-directory",
    )
"""

from carebook_smtp.ics import ICS_KINDS, invitation
from carebook_smtp.mime import compose
from carebook_smtp.notifier import SmtpNotifier
from carebook_smtp.settings import SECURITY, SmtpSettings

__all__ = ["ICS_KINDS", "SECURITY", "SmtpNotifier", "SmtpSettings", "compose", "invitation"]
