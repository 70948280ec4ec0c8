"""The tables, as typed SQLAlchemy mappings, one module per feature.

Importing this package puts every table on ``Base.metadata`` (migrations and the
metadata-equals-migrations test rely on that).
"""

from carebook_sqlalchemy.schema import delivery, reminders, sagas, walkins
from carebook_sqlalchemy.schema.core import Base

__all__ = ["Base", "delivery", "reminders", "sagas", "walkins"]
