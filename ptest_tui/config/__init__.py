"""Configuration: schema, loader and starter templates."""

from ptest_tui.config.loader import find_workspace, load_config
from ptest_tui.config.model import Config

__all__ = ["Config", "find_workspace", "load_config"]
