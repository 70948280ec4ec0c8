"""The built-in ``"memory"`` storage: thread-safe, in-process, for tests and demos."""

from carebook.builtin.memory.storage import MemoryStorage, MemoryUnitOfWork

__all__ = ["MemoryStorage", "MemoryUnitOfWork"]
