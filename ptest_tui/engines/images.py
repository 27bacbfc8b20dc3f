"""Build the base image offline: debootstrap a Debian rootfs, import it into Docker.

No registry is involved: debootstrap fetches Debian packages (from the mirror chosen in
:mod:`ptest_tui.engines.image_sources`), the rootfs tarball is cached under the user cache
folder so rebuilds do not download again, and ``docker import`` turns it into an image
labelled ``ptest.image=base`` and ``ptest.python=X.Y``. The image is verified by running
``python3 -c 'import venv'`` in it before the build counts as done.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ptest_tui.cancel import CancelToken
from ptest_tui.engines import docker_labels as labels
from ptest_tui.engines import image_sources as sources
from ptest_tui.engines.process import run_process, run_quiet
from ptest_tui.errors import EngineError, EngineUnavailableError, ImageError, UsageError
from ptest_tui.events import ImageBuildStep

StepCallback = Callable[[ImageBuildStep], None]
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEBOOTSTRAP_SCRIPTS = Path("/usr/share/debootstrap/scripts")
VERSION_PROBE = "import sys; print('%d.%d.%d' % sys.version_info[:3])"
VERIFY = "import venv, ssl, sys; print('%d.%d.%d' % sys.version_info[:3])"


@dataclass(frozen=True)
class BuildResult:
    """What ``build_base_image`` made."""

    tag: str
    image_id: str
    python_version: str  # X.Y.Z as the image runs it
    suite: str
    from_cache: bool  # True when the rootfs came from the cache (no download)


def cache_dir() -> Path:
    """``<user cache>/ptest-tui/images``: rootfs tarballs shared by every workspace."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("ptest-tui")) / "images"


def find_debootstrap() -> str:
    """The debootstrap executable (it lives in /usr/sbin, often not on a user's PATH)."""
    found = shutil.which("debootstrap") or shutil.which(
        "debootstrap", path="/usr/sbin:/sbin:/usr/local/sbin"
    )
    if not found:
        raise EngineUnavailableError(
            "debootstrap is not installed", "install it: apt-get install debootstrap"
        )
    return found


def check_root() -> None:
    """debootstrap creates device files and chroots: only root can build."""
    if os.geteuid() != 0:
        raise UsageError(
            "building the base image needs root (debootstrap creates device files and chroots)",
            "run it as root, e.g. `sudo ptest-tui image build ...`",
        )


def check_can_build(suite: str) -> str:
    """Root, debootstrap and a debootstrap script for ``suite``; returns debootstrap's path."""
    check_root()
    debootstrap = find_debootstrap()
    if DEBOOTSTRAP_SCRIPTS.is_dir() and not (DEBOOTSTRAP_SCRIPTS / suite).exists():
        raise UsageError(
            f"debootstrap on this host does not know the suite {suite!r}",
            "upgrade debootstrap, or pick another --python / --suite",
        )
    return debootstrap


def _unmount_below(folder: Path) -> None:
    """Unmount anything a killed debootstrap left mounted inside ``folder`` (deepest first)."""
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return
    prefix = str(folder.resolve()) + "/"
    points = [line.split()[4] for line in lines if len(line.split()) > 4]
    for point in sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True):
        run_process(
            ["umount", "-l", point], cwd=Path("/"), env={"PATH": PATH},
            on_output=lambda _s, _l: None, cancel=CancelToken(),
        )


def _debootstrap(
    debootstrap: str,
    suite: str,
    mirror: str,
    target: Path,
    step: Callable[[str, str], None],
    cancel: CancelToken,
) -> None:
    argv = [
        debootstrap, "--variant=minbase", "--include=" + ",".join(sources.INCLUDE),
        suite, str(target),
    ]
    if mirror:
        argv.append(mirror)
    step("debootstrap", " ".join(argv[1:]))
    env = {"PATH": PATH, "LANG": "C.UTF-8", "DEBIAN_FRONTEND": "noninteractive"}
    result = run_process(
        argv, cwd=target.parent, env=env, cancel=cancel,
        on_output=lambda _stream, line: step("debootstrap", line),
    )
    if result.cancelled:
        cancel.raise_if_cancelled("image build")
    if result.exit_code != 0:
        log = target / "debootstrap" / "debootstrap.log"
        raise ImageError(
            f"debootstrap {suite} failed with exit code {result.exit_code}",
            f"see the output above{' and ' + str(log) if log.exists() else ''};"
            " check the mirror (--mirror URL)",
        )


def _trim(rootfs: Path) -> None:
    """Drop downloaded .debs and apt lists: they are half the size and never used."""
    for pattern in ("var/cache/apt/archives/*.deb", "var/lib/apt/lists/*_*"):
        for path in rootfs.glob(pattern):
            path.unlink(missing_ok=True)


def make_rootfs(
    suite: str, mirror: str, step: Callable[[str, str], None], cancel: CancelToken
) -> tuple[Path, dict[str, Any], bool]:
    """The cached rootfs tarball for ``suite`` and its metadata, building it if needed."""
    from filelock import FileLock

    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    tarball = folder / sources.cache_name(suite)
    meta_file = folder / (tarball.name.removesuffix(".tar.gz") + ".json")
    with FileLock(str(tarball) + ".lock"):
        if tarball.is_file() and meta_file.is_file():
            step("rootfs", f"using cached {tarball}")
            return tarball, json.loads(meta_file.read_text()), True
        debootstrap = check_can_build(suite)
        work = Path(tempfile.mkdtemp(prefix=f"rootfs-{suite}-", dir=folder))
        try:
            rootfs = work / "rootfs"
            rootfs.mkdir()
            _debootstrap(debootstrap, suite, mirror, rootfs, step, cancel)
            _trim(rootfs)
            tools = {"PATH": PATH, "LANG": "C.UTF-8"}
            version = run_quiet(
                ["chroot", str(rootfs), "python3", "-c", VERSION_PROBE], env=tools
            ).strip()
            step("rootfs", f"{suite} has Python {version}; packing {tarball.name}")
            partial = work / "rootfs.tar.gz"
            run_quiet(
                ["tar", "--numeric-owner", "-czf", str(partial), "-C", str(rootfs), "."],
                env=tools,
                timeout=900,
            )
            cancel.raise_if_cancelled("image build")
            meta = {
                "suite": suite,
                "python_version": version,
                "packages": list(sources.INCLUDE),
                "mirror": mirror,
                "created": time.time(),
            }
            os.replace(partial, tarball)
            meta_file.write_text(json.dumps(meta, indent=2))
            return tarball, meta, False
        finally:
            _unmount_below(work)
            shutil.rmtree(work, ignore_errors=True)


def import_rootfs(
    api: Any, tarball: Path, tag: str, python: str, version: str, suite: str
) -> str:
    """``docker import`` with PATH, CMD and the ptest labels; returns the image id."""
    repository, name = labels.split_tag(tag)
    changes = [
        f"ENV PATH={PATH}",
        "ENV LANG=C.UTF-8",
        'CMD ["python3"]',
        f"LABEL {labels.LABEL_IMAGE}=base",
        f"LABEL {labels.LABEL_PYTHON}={python}",
        f"LABEL {labels.LABEL_PYTHON_VERSION}={version}",
        f"LABEL {labels.LABEL_SUITE}={suite}",
    ]
    api.import_image(src=str(tarball), repository=repository, tag=name, changes=changes)
    return str(api.inspect_image(tag)["Id"])


def verify_image(api: Any, tag: str) -> str:
    """Run ``python3 -c 'import venv'`` in the image (no network); returns X.Y.Z."""
    container = api.create_container(
        tag, ["python3", "-c", VERIFY],
        host_config=api.create_host_config(network_mode="none", security_opt=["no-new-privileges"]),
        labels={labels.LABEL_MANAGED: "1"},
    )["Id"]
    try:
        api.start(container)
        code = int(api.wait(container, timeout=120).get("StatusCode", -1))
        output = api.logs(container, stdout=True, stderr=True).decode(errors="replace").strip()
    finally:
        api.remove_container(container, force=True)
    if code != 0:
        last = output.splitlines()[-1:] or ["no output"]
        raise ImageError(f"the new image {tag} cannot run python3 -c 'import venv': {last[0]}", "")
    return str(output.splitlines()[-1])


def resolve_tag(api: Any, python: str, tag: str | None, config_image: str) -> str:
    """``tag``, else ``config_image`` when it is for ``python`` (by label or tag), else
    ``ptest-tui/python:X.Y``."""
    import docker.errors

    if tag:
        return sources.check_tag(tag)
    configured = ""
    if config_image:
        try:
            image_labels = (api.inspect_image(config_image).get("Config") or {}).get("Labels")
            configured = (image_labels or {}).get(labels.LABEL_PYTHON, "")
        except docker.errors.ImageNotFound:
            pass
    return sources.check_tag(sources.default_tag(python, config_image, configured))


def build_base_image(
    python: str = "3.11",
    tag: str | None = None,
    suite: str = "",
    mirror: str = "",
    on_step: StepCallback | None = None,
    cancel: CancelToken | None = None,
    *,
    api: Any = None,
    config_image: str = "",
    config_mirror: str = "",
) -> BuildResult:
    """Build (or rebuild from the cached rootfs) the base image for ``python``.

    ``tag`` defaults to ``config_image`` when that is for this Python, else
    ``ptest-tui/python:X.Y``. ``api`` is a connected low-level docker client (see
    :func:`ptest_tui.engines.docker_client.connect`); by default the one from
    ``DOCKER_HOST``, the Docker context or the local socket. Validation runs before
    anything is downloaded or written.
    """
    cancel = cancel or CancelToken()
    short = sources.check_python(python)
    chosen_suite = sources.suite_for(short, suite)
    if tag:
        sources.check_tag(tag)
    check_root()
    if api is None:
        from ptest_tui.engines.docker_client import connect, resolve_target

        api = connect(resolve_target("", os.environ))
    final_tag = resolve_tag(api, short, tag, config_image)

    def step(name: str, detail: str) -> None:
        if on_step:
            on_step(ImageBuildStep(final_tag, name, detail))

    chosen_mirror = sources.pick_mirror(mirror, config_mirror)
    step("plan", f"Python {short} from Debian {chosen_suite}"
         f" ({'mirror ' + chosen_mirror if chosen_mirror else 'debootstrap default mirror'})")
    tarball, meta, cached = make_rootfs(chosen_suite, chosen_mirror, step, cancel)
    version = str(meta.get("python_version", ""))
    if not labels.python_matches(short, version):
        raise UsageError(
            f"Debian {chosen_suite} has Python {version}, not {short}",
            f"use --python {'.'.join(version.split('.')[:2])} or another --suite",
        )
    cancel.raise_if_cancelled("image build")
    step("import", f"importing {tarball.name} as {final_tag}")
    try:
        image_id = import_rootfs(api, tarball, final_tag, short, version, chosen_suite)
    except Exception as exc:
        raise ImageError(
            f"docker import of {tarball} failed: {exc}", "check `docker info`"
        ) from None
    step("verify", "python3 -c 'import venv'")
    try:
        ran = verify_image(api, final_tag)
    except (ImageError, EngineError):
        api.remove_image(final_tag, force=True)
        raise
    step("done", f"{final_tag} ({image_id[:19]}, Python {ran})")
    return BuildResult(final_tag, image_id, ran, chosen_suite, cached)
