"""A helper package of the sample suite, importable from the suite's folder."""


def shout(text: str) -> str:
    """``text`` in capitals with an exclamation mark."""
    return text.upper() + "!"
