"""``python -m carebook``: the same command line as ``carebook`` (see carebook.worker.cli)."""

from carebook.worker.cli import main

raise SystemExit(main())
