"""Helpers shared by tests/ and bench/ (not part of the product: not packaged)."""
