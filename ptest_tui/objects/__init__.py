"""Test objects (databases, services) and what they share: the port allocator."""
