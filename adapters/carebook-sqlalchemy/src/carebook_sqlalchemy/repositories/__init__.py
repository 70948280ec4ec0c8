"""The Storage port's repositories over SQLAlchemy, one module per feature."""
