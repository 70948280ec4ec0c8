"""Use cases: each takes an Actor and a command and runs in one unit of work."""
