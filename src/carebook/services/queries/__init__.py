"""Read-only use cases."""
