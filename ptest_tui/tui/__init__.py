"""The full-screen Textual app (the only part of ptest-tui that imports textual).

Import :class:`ptest_tui.tui.app.PtestApp` directly; this package stays empty so that
importing a submodule does not pull in more of Textual than it needs.
"""
