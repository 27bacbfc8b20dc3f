"""ptest-tui plugin: post a JSON summary of each finished run to a webhook.

Registered as the ``webhook`` entry point (installed), or loaded by path from ptest.toml::

    [plugins]
    paths = ["path/to/src/ptest_webhook_reporter"]

pluggy registers the hook implementations found on this module, so they are imported
here from :mod:`.plugin` (relative imports: loaded by path, the package has a private name).
"""

from .plugin import (
    ptest_on_run_finished,
    ptest_register_commands,
    ptest_register_reporters,
)

__version__ = "0.1.0"
__all__ = [
    "__version__",
    "ptest_on_run_finished",
    "ptest_register_commands",
    "ptest_register_reporters",
]
