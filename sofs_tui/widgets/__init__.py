"""Reusable widgets: they take domain objects and post messages; no store, no sync."""
