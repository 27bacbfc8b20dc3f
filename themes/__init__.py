"""Theme files shipped with ptest-tui (installed as the ``ptest_tui.themes`` package).

Each ``*.toml`` file here defines one Textual theme; ``ptest_tui.tui.themes`` loads them.
This folder lives at the top of the repository so designers find it; pyproject.toml maps
it into the package so it ships in the wheel and resolves in editable installs too.
"""
