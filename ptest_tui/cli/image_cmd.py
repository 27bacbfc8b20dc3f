"""``ptest-tui image build`` and ``ptest-tui image list``: offline base images.

Image commands work without a workspace (configuration defaults, ``PTEST_*`` variables
and ``--set`` flags apply); inside one they use its configuration (``docker.image``,
``docker.host``, ``image.suite``, ``image.mirror``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ptest_tui.cli.common import add_json_flag, print_json, print_table

if TYPE_CHECKING:
    from ptest_tui.config.model import Config
    from ptest_tui.events import ImageBuildStep


def register(subparsers: Any) -> None:
    """Add ``image build`` and ``image list``."""
    parser = subparsers.add_parser(
        "image", help="build and list base images for docker environments (no registry)"
    )
    parser.set_defaults(handler=lambda _args: _usage(parser))
    actions = parser.add_subparsers(dest="image_command", metavar="ACTION")

    build = actions.add_parser(
        "build",
        help="debootstrap a Debian rootfs with python3 and import it as a docker image",
        description="Build the base image offline from Debian packages (needs root and"
        " debootstrap). The rootfs is cached, so a rebuild does not download again."
        " Progress goes to stderr, the final tag to stdout.",
    )
    build.add_argument("--python", default="3.11", help="Python version: 3.9, 3.11 or 3.13")
    build.add_argument("--tag", help="image tag (default: ptest-tui/objects:SUITE with --packages;"
                       " else docker.image if it is for this Python, else ptest-tui/python:X.Y)")
    build.add_argument(
        "--packages", action="append", default=[], metavar="PKG[,PKG...]",
        help="extra Debian packages to install (repeatable), e.g."
        " postgresql,redis-server,mariadb-server for container test objects",
    )
    build.add_argument("--suite", default="", help="Debian suite (default: picked by --python)")
    build.add_argument("--mirror", default="", help="Debian mirror URL (default: image.mirror,"
                       " else the host's apt sources)")
    build.add_argument("--force", action="store_true", help="rebuild even if the tag exists")
    build.set_defaults(handler=_build)

    listing = actions.add_parser("list", help="images built by ptest-tui (label ptest.image)")
    add_json_flag(listing)
    listing.set_defaults(handler=_list)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def load_config(args: argparse.Namespace) -> Config:
    """The workspace configuration when there is a workspace, else defaults + overrides."""
    from ptest_tui.config.loader import env_layer, find_workspace, flag_layer, merge
    from ptest_tui.config.loader import load_config as load_workspace_config
    from ptest_tui.config.model import Config
    from ptest_tui.config.schema import validate
    from ptest_tui.workspace import Workspace

    overrides = getattr(args, "overrides", []) or []
    explicit = Path(args.workspace) if getattr(args, "workspace", None) else None
    if explicit is not None or find_workspace(Path.cwd()) is not None:
        workspace = Workspace.locate(explicit=explicit)
        return load_workspace_config(workspace.root, None, overrides)
    data = merge(env_layer(os.environ), flag_layer(overrides))
    checked = validate(data, "PTEST_* variables and --set flags")
    return Config.from_validated(Path.cwd(), checked, ("defaults",))


def _connect(config: Config) -> Any:
    from ptest_tui.engines.docker_client import connect, resolve_target

    return connect(resolve_target(config.docker.host, os.environ))


def _image_id(api: Any, tag: str) -> str:
    import docker.errors

    try:
        return str(api.inspect_image(tag)["Id"])
    except docker.errors.ImageNotFound:
        return ""


def _print_step(event: ImageBuildStep) -> None:
    print(f"image {event.step}: {event.detail}", file=sys.stderr, flush=True)


def _build(args: argparse.Namespace) -> int:
    import docker.errors

    from ptest_tui.cancel import CancelToken
    from ptest_tui.engines import image_sources as sources
    from ptest_tui.engines.images import build_base_image, resolve_tag
    from ptest_tui.engines.rootfs import check_root

    config = load_config(args)
    short = sources.check_python(args.python)
    suite = sources.suite_for(short, args.suite or config.image.suite)
    packages = sources.check_packages(args.packages)
    tag = sources.check_tag(args.tag) if args.tag else ""
    if packages and not tag:
        tag = sources.packages_tag(suite)
    if args.force:
        check_root()  # say so before touching the daemon; without --force root may not matter
    api = _connect(config)
    tag = resolve_tag(api, short, tag, config.docker.image)
    existing = _image_id(api, tag)
    if existing and not args.force:
        print(f"image {tag} already exists ({existing[:19]}); use --force to rebuild it",
              file=sys.stderr)
        print(tag)
        return 0
    check_root()
    cancel = CancelToken()
    previous = signal.signal(signal.SIGINT, lambda _sig, _frame: cancel.cancel())
    try:
        result = build_base_image(
            short, tag, suite, args.mirror, on_step=_print_step, cancel=cancel, api=api,
            config_image=config.docker.image, config_mirror=config.image.mirror,
            packages=packages,
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    if existing and existing != result.image_id:
        # The old image is untagged now; drop it unless a container still uses it.
        with contextlib.suppress(docker.errors.APIError):
            api.remove_image(existing)
    print(result.tag)
    return 0


def image_rows(api: Any) -> list[dict[str, Any]]:
    """Images labelled ``ptest.image``, one entry per tag (untagged ones once)."""
    from ptest_tui.engines import docker_labels as labels

    rows: list[dict[str, Any]] = []
    for image in api.images(filters={"label": labels.LABEL_IMAGE}):
        image_labels = image.get("Labels") or {}
        tags = [t for t in image.get("RepoTags") or [] if t != "<none>:<none>"] or ["<none>"]
        for tag in tags:
            rows.append({
                "tag": tag,
                "id": image.get("Id", ""),
                "kind": image_labels.get(labels.LABEL_IMAGE, ""),
                "python": image_labels.get(labels.LABEL_PYTHON, ""),
                "python_version": image_labels.get(labels.LABEL_PYTHON_VERSION, ""),
                "suite": image_labels.get(labels.LABEL_SUITE, ""),
                "size": int(image.get("Size") or 0),
                "created": int(image.get("Created") or 0),
            })
    return sorted(rows, key=lambda r: r["tag"])


def _list(args: argparse.Namespace) -> int:
    import datetime

    config = load_config(args)
    rows = image_rows(_connect(config))
    if args.json:
        print_json(rows)
        return 0
    table = [
        [
            r["tag"], r["python_version"] or r["python"], r["suite"], r["id"][7:19],
            f"{r['size'] / 1024**2:.0f} MiB",
            datetime.datetime.fromtimestamp(r["created"]).strftime("%Y-%m-%d %H:%M"),
        ]
        for r in rows
    ]
    print_table(["tag", "python", "suite", "id", "size", "created"], table, title="ptest images")
    return 0
