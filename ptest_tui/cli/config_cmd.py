"""``ptest-tui config``: show the effective configuration, validate a file, print its path.

None of these open the state store: reading configuration never creates ``.ptest/``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ptest_tui.cli.common import add_json_flag
from ptest_tui.errors import ConfigError, ExitCode, UsageError

if TYPE_CHECKING:
    from ptest_tui.config.model import Config
    from ptest_tui.workspace import Workspace


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``config show``, ``config validate`` and ``config path``."""
    parser = subparsers.add_parser(
        "config",
        help="show, validate or locate the configuration",
        description="Inspect the workspace configuration: ptest.toml (or [tool.ptest] in"
        " pyproject.toml) over built-in defaults, under PTEST_<SECTION>_<KEY> variables and"
        " --set flags.",
    )
    parser.set_defaults(handler=lambda _args: _usage(parser))
    sub = parser.add_subparsers(dest="config_command", metavar="ACTION")

    show = sub.add_parser(
        "show",
        help="the effective configuration and where each value comes from",
        description="Print the effective (merged) configuration. Values not at their"
        " default carry a comment naming their source.",
    )
    add_json_flag(show)
    show.set_defaults(handler=run_show)

    check = sub.add_parser(
        "validate",
        help="check a configuration file",
        description="Check FILE (default: the workspace's ptest.toml or pyproject.toml,"
        " with PTEST_* variables and --set flags applied). Prints a 'valid' line and exits"
        " 0, or prints the first problem on one line and exits 2.",
    )
    check.add_argument("file", nargs="?", metavar="FILE", help="a ptest.toml or pyproject.toml")
    check.set_defaults(handler=run_validate)

    path = sub.add_parser(
        "path",
        help="print the path of the configuration file",
        description="Print the path of the file that configures this workspace.",
    )
    add_json_flag(path)
    path.set_defaults(handler=run_path)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return int(ExitCode.USAGE)


def _workspace(args: argparse.Namespace) -> Workspace:
    from ptest_tui.workspace import Workspace

    explicit = Path(args.workspace) if getattr(args, "workspace", None) else None
    return Workspace.locate(None, explicit)


def _load(args: argparse.Namespace) -> Config:
    from ptest_tui.config.loader import load_config

    return load_config(_workspace(args).root, None, getattr(args, "overrides", []))


# -- show ------------------------------------------------------------------------------


def _origins(config: Config, overrides: list[str]) -> dict[str, str]:
    """Map ``section.key`` paths that are not at their default to the layer that set them."""
    from ptest_tui.config.loader import env_layer, flag_layer, read_file_layer

    file_data, label = read_file_layer(config.root)
    file_label = label.replace(str(config.root) + os.sep, "")
    layers: list[tuple[dict[str, Any], Any]] = [
        (file_data, lambda _p: file_label),
        (env_layer(os.environ), lambda p: "PTEST_" + p.replace(".", "_").upper()),
        (flag_layer(overrides), lambda p: f"--set {p}"),
    ]
    origins: dict[str, str] = {}
    for data, describe in layers:  # later layers win, as in the loader
        for path in _leaf_paths(data):
            origins[path] = describe(path)
    return origins


def _leaf_paths(data: dict[str, Any], parents: tuple[str, ...] = ()) -> list[str]:
    paths: list[str] = []
    for key, value in data.items():
        parts = (*parents, key)
        # An env's ``env`` table (envs.NAME.env) is one value, not a section to descend
        # into; judged by position, since env names may themselves contain dots.
        is_env_table = len(parts) == 3 and parts[0] == "envs" and key == "env"
        if isinstance(value, dict) and not is_env_table:
            paths += _leaf_paths(value, parts)
        else:
            paths.append(".".join(parts))
    return paths


def _display(key: str, value: Any) -> Any:
    from ptest_tui.validation import format_memory

    if key == "memory" and isinstance(value, int):
        return format_memory(value)  # 512m reads better than 536870912
    return value


def _inline(value: Any) -> str:
    """A TOML value on one line: tables inline, arrays inline, scalars as tomli_w writes them.

    tomli_w writes a nested dict as its own ``[key]`` section, which read back is a new
    top-level section (``[env]`` instead of ``envs.NAME.env``), and arrays over several
    lines; one line per key keeps the output valid and its source comment on that line.
    """
    import tomli_w

    if isinstance(value, dict):
        pairs = ", ".join(f"{_key(k)} = {_inline(v)}" for k, v in value.items())
        return f"{{ {pairs} }}" if pairs else "{}"
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return tomli_w.dumps({"v": value}).strip().removeprefix("v = ")


def _key(key: str) -> str:
    """``key`` as a TOML key: bare when it can be, quoted otherwise."""
    import tomli_w

    return tomli_w.dumps({key: 0}).strip().removesuffix(" = 0")


def _render_toml(config: Config, origins: dict[str, str]) -> str:
    header = [
        f"effective configuration of workspace {config.workspace_name} ({config.root})",
        "layers, lowest first: " + " < ".join(("defaults", *config.sources)),
    ]
    # A newline in a folder name would end the comment and break the TOML.
    lines = ["# " + " ".join(text.splitlines()) for text in header]
    sections = {k: v for k, v in config.raw.items() if k != "envs"}
    if "packages" in sections:
        sections["packages"] = config.to_dict()["packages"]  # index credentials redacted
    # (header, dotted path for origins, values); env names may hold dots: quote them.
    tables = [(name, name, values) for name, values in sections.items()]
    tables += [
        (f"envs.{_key(name)}", f"envs.{name}", values) for name, values in config.envs.items()
    ]
    for table, path, values in tables:
        lines += ["", f"[{table}]"]
        for key, value in values.items():
            if value is None:
                continue  # TOML has no null; an unset limit is simply absent
            rendered = f"{_key(key)} = {_inline(_display(key, value))}"
            origin = origins.get(f"{path}.{key}")
            lines.append(f"{rendered}  # {origin}" if origin else rendered)
    return "\n".join(lines)


def run_show(args: argparse.Namespace) -> int:
    """``config show``: the merged configuration, as commented TOML or JSON."""
    config = _load(args)
    origins = _origins(config, getattr(args, "overrides", []))
    if args.json:
        from ptest_tui.cli.common import print_json

        print_json({**config.to_dict(), "origins": origins})
    else:
        print(_render_toml(config, origins))
    return int(ExitCode.OK)


# -- validate --------------------------------------------------------------------------


def _read_file(path: Path) -> tuple[dict[str, Any], str]:
    from ptest_tui.config.loader import PYPROJECT, read_toml

    if not path.is_file():
        raise ConfigError(f"{path} does not exist or is not a file", "check the path")
    data = read_toml(path)
    if path.name != PYPROJECT:
        return data, str(path)
    tool = data.get("tool", {})
    if not isinstance(tool, dict) or "ptest" not in tool:
        raise ConfigError(f"{path} has no [tool.ptest] table", "add one, or use a ptest.toml")
    return tool["ptest"], f"{path} [tool.ptest]"


def _engine_capabilities() -> dict[str, frozenset[str]]:
    """Every registered engine (built-in and plugin) with the needs it honours."""
    from ptest_tui.plugins.manager import build_plugin_manager

    capabilities: dict[str, frozenset[str]] = {}
    for engines in build_plugin_manager().hook.ptest_register_engines():
        for engine in engines or ():
            capabilities[engine.name] = engine.capabilities
    return capabilities


def check_levels(data: dict[str, Any], where: str) -> None:
    """Check isolation levels and what each declared env asks of its level.

    The schema cannot do this: engines come from plugins. Uses the same isolation manager
    as ``env create`` so a file that validates here creates what it declares.
    """
    from ptest_tui.engines.selection import select_isolation
    from ptest_tui.engines.spec import EnvSpec

    capabilities = _engine_capabilities()
    known = ", ".join(("auto", *capabilities))
    default = data["defaults"]["isolation"] or "auto"
    if default != "auto" and default not in capabilities:
        raise ConfigError(
            f"{where}: defaults.isolation: unknown isolation level {default!r}",
            f"use one of: {known}",
        )
    for name, table in data["envs"].items():
        spec = EnvSpec.from_dict(
            {**table, "name": name, "isolation": table.get("isolation") or default}
        )
        try:
            select_isolation(spec, capabilities)
        except UsageError as exc:
            raise ConfigError(f"{where}: envs.{name}: {exc.message}", exc.hint) from None


def run_validate(args: argparse.Namespace) -> int:
    """``config validate``: a 'valid' line and exit 0, or the first problem and exit 2."""
    from ptest_tui.config.schema import validate

    if args.file:
        raw, label = _read_file(Path(args.file).expanduser())
        data = validate(raw, label)
    else:
        config = _load(args)  # file, then PTEST_* variables, then --set, as commands see it
        label = config.sources[0]
        data = config.raw
    check_levels(data, label)
    count = len(data["envs"])
    print(f"{label}: valid ({count} environment{'s' if count != 1 else ''} declared)")
    return int(ExitCode.OK)


# -- path ------------------------------------------------------------------------------


def run_path(args: argparse.Namespace) -> int:
    """``config path``: the configuration file of this workspace."""
    from ptest_tui.config.loader import config_file_for

    workspace = _workspace(args)
    path = config_file_for(workspace.root)
    if args.json:
        from ptest_tui.cli.common import print_json

        print_json(
            {
                "config_file": str(path),
                "workspace": str(workspace.root),
                "state_dir": str(workspace.state_dir),
            }
        )
    else:
        print(path)
    return int(ExitCode.OK)
