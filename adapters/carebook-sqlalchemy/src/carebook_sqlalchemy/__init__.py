"""carebook-sqlalchemy: carebook's storage port on SQLite and PostgreSQL.

Select it by name: ``CarebookConfig(storage="sqlalchemy",
storage_options={"url": "sqlite:///clinic.db"})``.
"""

from carebook_sqlalchemy.storage import SqlStorage, SqlUnitOfWork

__all__ = ["SqlStorage", "SqlUnitOfWork"]
