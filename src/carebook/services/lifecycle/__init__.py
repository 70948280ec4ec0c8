"""The appointment lifecycle after booking: confirm, arrive, session, cancel."""
