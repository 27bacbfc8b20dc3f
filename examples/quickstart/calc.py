"""A tiny module for the quick-start test suite."""


def add(a: int, b: int) -> int:
    """Return the sum of a and b."""
    return a + b


def divide(a: float, b: float) -> float:
    """Return a / b; dividing by zero raises ZeroDivisionError."""
    return a / b
