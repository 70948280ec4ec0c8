"""``python -m carebook_sqlalchemy``: the ``carebook-sqlalchemy`` command line."""

from __future__ import annotations

from carebook_sqlalchemy.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
