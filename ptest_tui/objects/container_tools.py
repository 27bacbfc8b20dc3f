"""Running tools in an object's container: exec, small files, programs in the image.

The part of :class:`ptest_tui.objects.container.ContainerRuntime` that ServerObject's
runtime-neutral helpers (``run_tool``, ``write_private_file``, ``append_line``,
``remove_file``, ``data_has``, ``tool_path``) and ``container_programs`` reach. Every
command is an argument list; file contents travel as environment data or in a tar.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import tarfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import PtestError

if TYPE_CHECKING:
    from ptest_tui.objects.server import ServerObject

DEFAULT_IMAGE = "ptest-tui/objects:bookworm"
IMAGE_PACKAGES = "postgresql,redis-server,mariadb-server"
DATA = "/data"
FILES = "/tmp/ptest-files"  # noqa: S108 - inside the container: host files tools read
WRITE_SCRIPT = 'umask 077 && printf "%s\\n" "$PTEST_TEXT" > "$1"'
APPEND_SCRIPT = 'printf "%s\\n" "$PTEST_TEXT" >> "$1"'


class ContainerTools:
    """Commands and files in the container ``container`` of the server object ``obj``."""

    def __init__(self, obj: ServerObject, container: str) -> None:
        self.obj = obj
        self.container = container
        self._api: Any = None

    # -- daemon -------------------------------------------------------------------------

    def api(self) -> Any:
        """The docker client from the object context (connected once)."""
        from ptest_tui.objects.server import ObjectUnavailableError

        if self._api is None:
            if self.obj.context.docker is None:
                raise ObjectUnavailableError(
                    f"{self.obj.name}: runtime docker needs the Docker daemon, and none is"
                    " configured here", "use runtime process",
                )
            self._api = self.obj.context.docker()
        return self._api

    @contextlib.contextmanager
    def docker_errors(
        self, action: str, error: type[PtestError] | None = None
    ) -> Iterator[None]:
        """Turn SDK and connection failures during ``action`` into one-line errors
        (``error``, by default ObjectUnavailableError)."""
        import docker.errors
        import requests.exceptions

        from ptest_tui.objects.server import ObjectUnavailableError

        try:
            yield
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            detail = getattr(exc, "explanation", None) or exc
            raise (error or ObjectUnavailableError)(
                f"{self.obj.name}: cannot {action}: docker: {detail}", "check `docker info`"
            ) from None

    @property
    def image(self) -> str:
        """The ``image`` setting, else ``ptest-tui/objects:bookworm``."""
        return str(self.obj.setting("image", DEFAULT_IMAGE))

    # -- tools --------------------------------------------------------------------------

    @property
    def user(self) -> str:
        """The account the server and its tools run as in the container."""
        return self.obj.account_name or "root"

    def _exec(self, argv: Sequence[str], user: str = "", **kwargs: Any) -> int:
        code, _out, _err = self.exec(argv, user=user or self.user, **kwargs)
        return code

    def exec(
        self,
        argv: Sequence[str],
        *,
        user: str,
        env: Mapping[str, str] | None = None,
        cwd: str = DATA,
        timeout: float = 120.0,
    ) -> tuple[int, str, str]:
        """Run ``argv`` in the container; exit code, stdout and stderr."""
        from ptest_tui.engines.docker_exec import run_exec
        from ptest_tui.objects.host_tools import ToolError

        out: list[str] = []
        err: list[str] = []
        try:
            result = run_exec(
                self.api(), self.container, argv, environment=dict(env or {}), workdir=cwd,
                on_output=lambda stream, line: (out if stream == "stdout" else err).append(line),
                cancel=CancelToken(), timeout=timeout, user=user,
            )
        except PtestError as exc:
            raise ToolError(f"{self.obj.name}: {exc.message}", exc.hint) from None
        if result.timed_out:
            raise ToolError(f"{self.obj.name}: {Path(argv[0]).name} did not finish in"
                            f" {timeout:g} s", "")
        return result.exit_code, "\n".join(out), "\n".join(err)

    def run_tool(
        self, argv: Sequence[str], *, as_account: bool, env: Mapping[str, str],
        cwd: str | None, timeout: float, what: str,
    ) -> str:
        """ServerObject.run_tool in the container (as root unless ``as_account``), in
        ``cwd`` or the data folder."""
        code, out, err = self.exec(
            argv, user=self.user if as_account else "root", env=env, cwd=cwd or DATA,
            timeout=timeout,
        )
        if code != 0:
            output = " | ".join(line.strip() for line in (err + "\n" + out).splitlines()
                                if line.strip())
            raise self._tool_error(f"{what or Path(argv[0]).name} failed: {output[-600:]}")
        return out + ("\n" if out else "")

    def _tool_error(self, what: str) -> PtestError:
        from ptest_tui.objects.host_tools import ToolError

        return ToolError(f"{self.obj.name}: {what}", f"see {self.obj.process.log_file}")

    def write_file(self, path: str, text: str) -> None:
        """Write ``text`` to ``path`` as the server's account, readable by it only."""
        code, _out, err = self.exec(
            ["sh", "-c", WRITE_SCRIPT, "ptest-write", path], user=self.user,
            env={"PTEST_TEXT": text},
        )
        if code != 0:
            raise self._tool_error(f"cannot write {path} in the container: {err.strip()}")

    def append_line(self, path: str, line: str) -> None:
        """Append ``line`` to ``path`` as the server's account."""
        code, _out, err = self.exec(
            ["sh", "-c", APPEND_SCRIPT, "ptest-append", path], user=self.user,
            env={"PTEST_TEXT": line},
        )
        if code != 0:
            raise self._tool_error(f"cannot append to {path} in the container: {err.strip()}")

    def remove_file(self, path: str) -> None:
        """Delete ``path`` in the container (a missing one is fine)."""
        self._exec(["rm", "-f", path], user="root")

    def is_file(self, path: str) -> bool:
        """Whether ``path`` is a file in the container."""
        return self._exec(["test", "-f", path], user="root") == 0

    def copy_in(self, source: Path) -> str:
        """Copy a host file into the container for tools to read; returns its path there."""
        data = source.read_bytes()
        digest = hashlib.sha256(str(source).encode()).hexdigest()[:8]
        name = f"{digest}-{source.name}"
        self.api().put_archive(
            self.container, str(Path(FILES).parent),
            tar_files([(f"{Path(FILES).name}/{name}", data, 0o644)]),
        )
        return f"{FILES}/{name}"

    def locate(self, programs: Mapping[str, str]) -> dict[str, str]:
        """Programs by role in the image: a name on PATH or a glob (newest version wins)."""
        from ptest_tui.objects.server import ObjectUnavailableError

        # $p unquoted on purpose: a glob from the kind, expanded by the shell.
        script = (
            'for p in "$@"; do case "$p" in '
            '*/*) f=$(ls -d $p 2>/dev/null | sort -V | tail -n 1);; '
            '*) f=$(PATH="$PATH:/usr/sbin:/sbin" command -v "$p");; esac; echo "$f"; done'
        )
        roles = list(programs)
        code, out, _err = self.exec(
            ["sh", "-c", script, "ptest-locate", *programs.values()], user="root", cwd="/"
        )
        found = out.split("\n") if code == 0 else []
        if len(found) != len(roles) or not all(found):
            found = (found + [""] * len(roles))[: len(roles)]
            missing = [programs[r] for r, f in zip(roles, found, strict=True) if not f]
            raise ObjectUnavailableError(
                f"{self.obj.name}: image {self.image} lacks {', '.join(missing) or 'programs'}",
                f"build an image with the server: ptest-tui image build --packages"
                f" {IMAGE_PACKAGES}",
            )
        return dict(zip(roles, found, strict=True))


def tar_files(members: Sequence[tuple[str, bytes, int]]) -> bytes:
    """A tar of (name, content, mode) files, with their folders, for ``put_archive``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        folders = sorted({str(Path(name).parent) for name, _data, _mode in members} - {"."})
        for folder in folders:
            info = tarfile.TarInfo(folder)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, int(time.time())
            tar.addfile(info)
        for name, data, mode in members:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
