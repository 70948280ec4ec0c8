"""The core stays pure: importing carebook pulls in no adapter and no SQL library."""

from __future__ import annotations

import subprocess
import sys


def test_importing_carebook_loads_no_adapter_or_database_library() -> None:
    code = (
        "import sys, carebook, carebook.testing.scenarios\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'sqlalchemy', 'alembic', 'psycopg', 'sqlite3', 'carebook_sqlalchemy'})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"CAREBOOK_DISABLE_PLUGIN_AUTOLOAD": "1", "PATH": ""},
    )
    assert result.stdout.strip() == ""
