"""Build the base image offline: debootstrap a Debian rootfs, import it into Docker.

No registry is involved: :mod:`ptest_tui.engines.rootfs` debootstraps (or takes from its
cache) a Debian rootfs tarball, and ``docker import`` turns it into an image labelled
``ptest.image=base`` and ``ptest.python=X.Y``. The image is verified by running
``python3 -c 'import venv'`` in it before the build counts as done; an image that fails
verification is removed.

A killed build can leave a verify container behind; each build starts by removing those
(:func:`remove_stale_build_leftovers`), and the rootfs module removes stale work folders.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ptest_tui.cancel import CancelToken
from ptest_tui.engines import docker_labels as labels
from ptest_tui.engines import image_sources as sources
from ptest_tui.engines.rootfs import PATH, check_root, make_rootfs
from ptest_tui.errors import ImageError, UsageError
from ptest_tui.events import ImageBuildStep

log = logging.getLogger(__name__)

StepCallback = Callable[[ImageBuildStep], None]
VERIFY = "import venv, ssl, sys; print('%d.%d.%d' % sys.version_info[:3])"
# With extra packages the verify run also asks dpkg that each one is installed.
VERIFY_PACKAGES = (
    "import subprocess, sys, venv, ssl\n"
    "subprocess.run(['dpkg-query', '-W', *sys.argv[1:]], check=True, stdout=subprocess.DEVNULL)\n"
    "print('%d.%d.%d' % sys.version_info[:3])"
)
VERIFY_TIMEOUT = 120.0  # seconds for python3 -c 'import venv' in the new image
# Label of verify containers; its value names the building process ("host:pid").
LABEL_VERIFY = "ptest.image-verify"
# A verify container not running after this long is stale even if its owner is unknown
# (another host on a shared daemon): a verify run lasts at most VERIFY_TIMEOUT.
VERIFY_GRACE = 600.0


@dataclass(frozen=True)
class BuildResult:
    """What ``build_base_image`` made."""

    tag: str
    image_id: str
    python_version: str  # X.Y.Z as the image runs it
    suite: str
    from_cache: bool  # True when the rootfs came from the cache (no download)


def import_rootfs(
    api: Any,
    tarball: Path,
    tag: str,
    python: str,
    version: str,
    suite: str,
    packages: tuple[str, ...] = (),
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
    if packages:
        changes.append(f"LABEL {labels.LABEL_PACKAGES}={','.join(packages)}")
    api.import_image(src=str(tarball), repository=repository, tag=name, changes=changes)
    return str(api.inspect_image(tag)["Id"])


def _verify_owner() -> str:
    """``host:pid`` of this process: the value of LABEL_VERIFY on its verify containers."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_gone(owner: str) -> bool:
    """True when ``owner`` (``host:pid``) is a process of this host that no longer runs."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) <= 0:
        return False  # another host, or not ours to judge: wait for VERIFY_GRACE
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it exists, under another user
    return False


def remove_stale_build_leftovers(api: Any) -> list[str]:
    """Remove verify containers killed builds left; returns their names.

    A verify container is stale when it is not running and its build is over: the
    process named by its LABEL_VERIFY value is gone, or it was created more than
    VERIFY_GRACE seconds ago. Running ones are never touched (a live build owns them).
    Work folders in the rootfs cache are removed by :func:`make_rootfs`, which holds the
    cache lock. Best effort: a failure to list is logged and the build goes on.
    """
    import docker.errors
    import requests.exceptions

    removed: list[str] = []
    try:
        found = api.containers(all=True, filters={"label": [LABEL_VERIFY]})
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        log.warning("cannot list stale verify containers: %s", exc)
        return removed
    for container in found:
        if container.get("State") == "running":
            continue
        owner = (container.get("Labels") or {}).get(LABEL_VERIFY, "")
        age = time.time() - float(container.get("Created") or 0)
        if not (_owner_gone(owner) or age > VERIFY_GRACE):
            continue
        name = ((container.get("Names") or ["?"])[0]).lstrip("/")
        try:
            api.remove_container(container["Id"], force=True, v=True)
        except docker.errors.NotFound:
            continue
        except docker.errors.APIError as exc:
            log.warning("cannot remove stale verify container %s: %s", name, exc)
            continue
        removed.append(name)
    return removed


def verify_image(
    api: Any, tag: str, timeout: float = VERIFY_TIMEOUT, packages: tuple[str, ...] = ()
) -> str:
    """Run ``python3 -c 'import venv'`` in the image (no network); returns X.Y.Z.

    Any failure, including the daemon not answering within ``timeout``, is an ImageError;
    the container is removed either way.
    """
    import docker.errors
    import requests.exceptions

    container = ""
    try:
        container = api.create_container(
            tag,
            ["python3", "-c", VERIFY_PACKAGES, *packages] if packages
            else ["python3", "-c", VERIFY],
            host_config=api.create_host_config(
                network_mode="none", security_opt=["no-new-privileges"]
            ),
            labels={labels.LABEL_MANAGED: "1", LABEL_VERIFY: _verify_owner()},
        )["Id"]
        api.start(container)
        code = int(api.wait(container, timeout=timeout).get("StatusCode", -1))
        output = api.logs(container, stdout=True, stderr=True).decode(errors="replace").strip()
    except docker.errors.APIError as exc:
        raise ImageError(
            f"cannot verify the new image {tag}: {exc.explanation or exc}", "check `docker info`"
        ) from None
    except (requests.exceptions.RequestException, docker.errors.DockerException) as exc:
        # A wait past ``timeout`` surfaces as ReadTimeout or a ConnectionError wrapping one.
        raise ImageError(
            f"the new image {tag} did not finish python3 -c 'import venv' within"
            f" {timeout:g} s ({type(exc).__name__})",
            "check `docker info`; then build again",
        ) from None
    finally:
        if container:
            _remove_quietly(api, container)
    if code != 0:
        last = output.splitlines()[-1:] or ["no output"]
        raise ImageError(f"the new image {tag} cannot run python3 -c 'import venv': {last[0]}", "")
    return str(output.splitlines()[-1])


def _remove_quietly(api: Any, container: str) -> None:
    """Force-remove ``container``; a failure is logged, not raised over the real error."""
    try:
        api.remove_container(container, force=True, v=True)
    except Exception as exc:  # the next build's remove_stale_build_leftovers retries
        log.warning("cannot remove verify container %s: %s", container[:12], exc)


def verify_or_remove(
    api: Any, tag: str, timeout: float = VERIFY_TIMEOUT, packages: tuple[str, ...] = ()
) -> str:
    """:func:`verify_image`; on any failure the unverified ``tag`` is removed."""
    try:
        return verify_image(api, tag, timeout, packages)
    except BaseException:
        try:
            api.remove_image(tag, force=True)
        except Exception as exc:  # keep the verify error; say what could not be removed
            log.warning("cannot remove the unverified image %s: %s", tag, exc)
        raise


def resolve_tag(api: Any, python: str, tag: str | None, config_image: str) -> str:
    """``tag``, else ``config_image`` when it is for ``python`` (by label or tag), else
    ``ptest-tui/python:X.Y``.

    Both are checked against the docker reference grammar before the daemon is asked, so
    a bad ``docker.image`` is a UsageError rather than the daemon's 400.
    """
    import docker.errors

    if tag:
        return sources.check_tag(tag)
    configured = ""
    if config_image:
        try:
            sources.check_tag(config_image)
        except UsageError as exc:
            raise UsageError(
                f"docker.image: {exc.message}",
                "fix docker.image (lowercase repo[:tag]), or pass --tag",
            ) from None
        try:
            image_labels = (api.inspect_image(config_image).get("Config") or {}).get("Labels")
            configured = (image_labels or {}).get(labels.LABEL_PYTHON, "")
        except docker.errors.ImageNotFound:
            pass
        except docker.errors.APIError as exc:
            raise ImageError(
                f"cannot inspect image {config_image}: {exc.explanation or exc}",
                "check `docker info`",
            ) from None
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
    packages: tuple[str, ...] = (),
) -> BuildResult:
    """Build (or rebuild from the cached rootfs) the base image for ``python``.

    ``packages`` are extra Debian packages (``--packages``), installed by debootstrap with
    the base set; the rootfs cache is keyed by the package set. ``tag`` defaults to
    ``ptest-tui/objects:SUITE`` with packages, else to ``config_image`` when that is for
    this Python, else ``ptest-tui/python:X.Y``. ``api`` is a connected low-level docker
    client (see
    :func:`ptest_tui.engines.docker_client.connect`); by default the one from
    ``DOCKER_HOST``, the Docker context or the local socket. Validation runs before
    anything is downloaded or written.
    """
    cancel = cancel or CancelToken()
    short = sources.check_python(python)
    chosen_suite = sources.suite_for(short, suite)
    packages = sources.check_packages(packages)
    if packages and not tag:
        tag = sources.packages_tag(chosen_suite)
    if tag:
        sources.check_tag(tag)
    check_root()
    if api is None:
        from ptest_tui.engines.docker_client import connect, resolve_target

        api = connect(resolve_target("", os.environ))
    final_tag = resolve_tag(api, short, tag, config_image)
    stale = remove_stale_build_leftovers(api)

    def step(name: str, detail: str) -> None:
        if on_step:
            on_step(ImageBuildStep(final_tag, name, detail))

    if stale:
        step("plan", f"removed {len(stale)} verify container(s) left by killed builds")
    chosen_mirror = sources.pick_mirror(mirror, config_mirror)
    step("plan", f"Python {short} from Debian {chosen_suite}"
         f" ({'mirror ' + chosen_mirror if chosen_mirror else 'debootstrap default mirror'})")
    if packages:
        step("plan", f"extra packages: {', '.join(packages)}")
    tarball, meta, cached = make_rootfs(chosen_suite, chosen_mirror, step, cancel, packages)
    version = str(meta.get("python_version", ""))
    if not labels.python_matches(short, version):
        raise UsageError(
            f"Debian {chosen_suite} has Python {version}, not {short}",
            f"use --python {'.'.join(version.split('.')[:2])} or another --suite",
        )
    cancel.raise_if_cancelled("image build")
    step("import", f"importing {tarball.name} as {final_tag}")
    try:
        image_id = import_rootfs(
            api, tarball, final_tag, short, version, chosen_suite, packages
        )
    except Exception as exc:
        raise ImageError(
            f"docker import of {tarball} failed: {exc}", "check `docker info`"
        ) from None
    step("verify", "python3 -c 'import venv'" + (" and dpkg-query -W PACKAGES" if packages else ""))
    ran = verify_or_remove(api, final_tag, packages=packages)
    step("done", f"{final_tag} ({image_id[:19]}, Python {ran})")
    return BuildResult(final_tag, image_id, ran, chosen_suite, cached)
