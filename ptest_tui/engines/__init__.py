"""Isolation engines: the interface, the registry, selection, and the built-in levels."""
