"""Command-line front end: argument parsing, one module per subcommand, batch mode.

Nothing here imports textual at module level; ``ptest-tui`` with no subcommand imports
:mod:`ptest_tui.tui` only when it starts the app.
"""
