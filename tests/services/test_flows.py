"""The use cases every storage runs (:mod:`carebook.testing.flows`), on the memory storage.

carebook-sqlalchemy runs the same suite on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from carebook.builtin.memory import MemoryStorage
from carebook.ports import Storage
from carebook.testing.flows import ServiceFlows


class TestMemoryFlows(ServiceFlows):
    @pytest.fixture
    def storage(self) -> Iterator[Storage]:
        storage = MemoryStorage()
        yield storage
        storage.close()
