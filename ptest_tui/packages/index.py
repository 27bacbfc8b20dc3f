"""Index configuration for both installers, and redaction of credentials in URLs.

Credentials in index URLs (``https://user:token@host/simple``) are passed to the tools
but never printed, logged or stored: every message built from a URL or from tool output
goes through :func:`redact` first.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ptest_tui.paths import user_cache_dir

if TYPE_CHECKING:
    from ptest_tui.config.model import Config

# scheme://userinfo@  -> scheme://***@ ; userinfo is everything up to the last @ before
# the host part (no "/" allowed in it).
NETWORK_TUNING = frozenset({"UV_HTTP_TIMEOUT", "UV_HTTP_RETRIES", "PIP_TIMEOUT", "PIP_RETRIES"})
_USERINFO_RE = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/@\s]+)@")


def redact(text: str) -> str:
    """``text`` with the user:password part of every URL in it replaced by ``***``."""
    return _USERINFO_RE.sub(lambda m: f"{m.group('scheme')}***@", text)


def uv_cache_dir() -> str:
    """uv's cache folder inside the shared ptest-tui cache."""
    return str(user_cache_dir() / "uv")


def pip_cache_dir() -> str:
    """pip's cache folder inside the shared ptest-tui cache."""
    return str(user_cache_dir() / "pip")


@dataclass(frozen=True)
class IndexConfig:
    """Where packages come from; the same settings drive uv and pip."""

    index_url: str = ""
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    offline: bool = False
    prefer_cache: bool = True

    @classmethod
    def from_config(cls, config: Config) -> IndexConfig:
        """The ``[packages]`` section of the effective configuration."""
        section = config.packages
        return cls(
            index_url=section.index_url,
            extra_index_urls=tuple(section.extra_index_urls),
            find_links=tuple(section.find_links),
            offline=section.offline,
            prefer_cache=section.prefer_cache,
        )

    def describe(self) -> str:
        """The (redacted) indexes and find-links, for messages."""
        parts: list[str] = []
        if self.offline:
            parts.append("offline: the cache")
            if self.index_url:
                parts.append(f"cached pages of {redact(self.index_url)}")
        else:
            parts.append(redact(self.index_url) if self.index_url else "the default index (PyPI)")
        parts += [redact(url) for url in self.extra_index_urls]
        parts += [f"find-links {redact(link)}" for link in self.find_links]
        return ", ".join(parts)

    def uv_args(self) -> list[str]:
        """Index options for ``uv pip`` subcommands.

        Offline keeps the index URLs: uv keys its cache by index, so the same URL finds
        what an earlier online install cached; ``--offline`` stops every request.
        """
        args: list[str] = ["--offline"] if self.offline else []
        if self.index_url:
            args += ["--index-url", self.index_url]
        for url in self.extra_index_urls:
            args += ["--extra-index-url", url]
        for link in self.find_links:
            args += ["--find-links", link]
        return args

    def pip_args(self) -> list[str]:
        """Index options for ``pip install``/``pip list``."""
        args: list[str] = []
        if self.offline:
            args += ["--no-index"]
        elif self.index_url:
            args += ["--index-url", self.index_url]
        if not self.offline:
            for url in self.extra_index_urls:
                args += ["--extra-index-url", url]
        for link in self.find_links:
            args += ["--find-links", link]
        return args

    def tool_environment(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Variables for both tools: shared cache, no user config, no Python downloads."""
        env = dict(os.environ if base is None else base)
        # A user's uv.toml / pip.conf / PIP_* must not change what ptest-tui installs;
        # network tuning (timeouts, retries) may pass through.
        for key in list(env):
            if key.startswith(("PIP_", "UV_")) and key not in NETWORK_TUNING:
                del env[key]
        env.update(
            UV_CACHE_DIR=uv_cache_dir(),
            PIP_CACHE_DIR=pip_cache_dir(),
            UV_NO_CONFIG="1",
            UV_PYTHON_DOWNLOADS="never",
            PIP_CONFIG_FILE=os.devnull,
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            PIP_NO_INPUT="1",
            UV_NO_PROGRESS="1",
        )
        return env
