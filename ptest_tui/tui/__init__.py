"""The full-screen Textual app (the only part of ptest-tui that imports textual).

Import :class:`ptest_tui.tui.app.PtestApp` directly; this package stays empty so that
importing a submodule does not pull in more of Textual than it needs.

One setting is made here, before any Textual module is imported: Textual draws at most
``TEXTUAL_FPS`` frames a second (60 by default) and reads it once, at import. A key press
waits for the next frame slot before its result shows, up to 17 ms at 60; at 120 it is
8 ms. Frames are only drawn when something changed, so an idle app costs the same. A
value set in the environment wins.
"""

import os

os.environ.setdefault("TEXTUAL_FPS", "120")
