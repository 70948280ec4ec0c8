"""The boundary fuzzer (:mod:`carebook.testing.fuzz`) on the memory storage.

carebook-sqlalchemy runs it on SQLite. ``CAREBOOK_FUZZ_EXAMPLES`` sets its size
(default 60 examples of 20 calls each).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from carebook.builtin.memory import MemoryStorage
from carebook.ports import Storage
from carebook.testing.fuzz import BoundaryFuzz


class TestMemoryBoundaryFuzz(BoundaryFuzz):
    @pytest.fixture
    def storage(self) -> Iterator[Storage]:
        storage = MemoryStorage()
        yield storage
        storage.close()
