"""ptest-tui: isolated test environments, packages, test objects and runs.

The public Python API is :class:`ptest_tui.session.Session`; see docs/api.md.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
