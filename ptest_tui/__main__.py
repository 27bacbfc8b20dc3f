"""Allow ``python -m ptest_tui``."""

from ptest_tui.cli.main import main

raise SystemExit(main())
