"""Default adapters that need only the standard library."""
