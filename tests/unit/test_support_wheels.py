"""The test-support layer is real: its wheels install with uv and pip, its index serves them.

Every install goes to a fresh uv venv with a private cache and no user config, offline
(``--no-index --find-links``) or through the local index on 127.0.0.1.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.support import bundled_pip_folder, isolated_env, uv_binary
from tests.support.conftest_packages import AUTH_PASSWORD, AUTH_USER
from tests.support.index_server import IndexServer
from tests.support.wheels import Corpus, build_wheel, make_corpus, wheel_filename

UV = str(uv_binary())


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing text output, never raising on failure."""
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, check=False)


def ok(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a command that must succeed; show its output if it does not."""
    result = run(args, env)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


def uv_pip(python: Path, *args: str) -> list[str]:
    """A ``uv pip install`` command line targeting the venv of ``python``."""
    return [UV, "pip", "install", "--python", str(python), *args]


def make_venv(path: Path, env: dict[str, str]) -> Path:
    """A fresh uv venv (offline: no seed packages); returns its python."""
    ok([UV, "venv", "--quiet", "--python", sys.executable, str(path)], env)
    return path / "bin" / "python"


def version_in(python: Path, module: str, env: dict[str, str]) -> str:
    """``module.__version__`` as the venv of ``python`` imports it."""
    code = f"import {module}; print({module}.__version__)"
    return ok([str(python), "-c", code], env).stdout.strip()


# -- the wheel format ----------------------------------------------------------------------


def test_wheel_layout_and_record(tmp_path: Path) -> None:
    path = build_wheel(tmp_path, "tinyA", "0.3", requires=["alpha>=1", "beta; python_version>'3'"])
    assert path.name == "tinya-0.3-py3-none-any.whl"
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        assert archive.read("tinya/__init__.py") == b'__version__ = "0.3"\n'
        metadata = archive.read("tinya-0.3.dist-info/METADATA").decode()
        wheel = archive.read("tinya-0.3.dist-info/WHEEL").decode()
        record = list(csv.reader(io.StringIO(archive.read("tinya-0.3.dist-info/RECORD").decode())))
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        for arcname, digest, size in record:
            if arcname.endswith("RECORD"):
                assert (digest, size) == ("", "")
                continue
            data = archive.read(arcname)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert digest == "sha256=" + expected.decode()
            assert int(size) == len(data)
    assert {row[0] for row in record} == names
    assert "Metadata-Version: 2.1\nName: tinyA\nVersion: 0.3\n" in metadata
    assert "Requires-Dist: alpha>=1\nRequires-Dist: beta; python_version>'3'\n" in metadata
    assert "Root-Is-Purelib: true" in wheel and "Tag: py3-none-any" in wheel


def test_wheels_are_deterministic(tmp_path: Path) -> None:
    first = build_wheel(tmp_path / "a", "bulk-7", "1.0", console_scripts={"x": "bulk_7:main"})
    second = build_wheel(tmp_path / "b", "bulk-7", "1.0", console_scripts={"x": "bulk_7:main"})
    assert first.name == "bulk_7-1.0-py3-none-any.whl" == wheel_filename("bulk-7", "1.0")
    assert first.read_bytes() == second.read_bytes()


def test_corpus_contents(wheel_corpus: Corpus, tmp_path: Path) -> None:
    projects = wheel_corpus.projects()
    assert {"alpha", "beta", "gamma", "delta", "tool"} <= set(projects)
    assert len(projects["alpha"]) == 3
    assert len(wheel_corpus.bulk) == 30 and all(name in projects for name in wheel_corpus.bulk)
    assert wheel_corpus.wheel("beta", "2.0").exists()
    with pytest.raises(KeyError):
        wheel_corpus.wheel("beta", "9.9")
    again = make_corpus(tmp_path / "again")
    assert [p.read_bytes() for p in again.files] == [p.read_bytes() for p in wheel_corpus.files]


# -- installs with uv and pip ----------------------------------------------------------------


def test_uv_installs_from_find_links(
    find_links_dir: Path, installer_env: dict[str, str], tmp_path: Path
) -> None:
    python = make_venv(tmp_path / "venv", installer_env)
    ok(uv_pip(python, "--no-index", "-f", str(find_links_dir), "alpha==1.1", "tool"), installer_env)
    assert version_in(python, "alpha", installer_env) == "1.1"
    hello = ok([str(tmp_path / "venv" / "bin" / "tool-hello")], installer_env)
    assert hello.stdout == "hello\n"


def test_pip_installs_from_find_links(
    find_links_dir: Path, installer_env: dict[str, str], tmp_path: Path
) -> None:
    python = make_venv(tmp_path / "venv", installer_env)
    # Seed pip from the stdlib's bundled wheel: `uv venv --seed` would fetch it from PyPI.
    ok(uv_pip(python, "--no-index", "-f", str(bundled_pip_folder()), "pip"), installer_env)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--no-index"]
    ok([*pip, "--find-links", str(find_links_dir), "beta==1.0", "tool"], installer_env)
    assert version_in(python, "beta", installer_env) == "1.0"
    assert version_in(python, "alpha", installer_env) == "2.0"  # newest alpha>=1.1
    hello = ok([str(tmp_path / "venv" / "bin" / "tool-hello")], installer_env)
    assert hello.stdout == "hello\n"


def test_uv_installs_from_local_index(
    local_index: IndexServer, wheel_corpus: Corpus, installer_env: dict[str, str], tmp_path: Path
) -> None:
    python = make_venv(tmp_path / "venv", installer_env)
    ok(uv_pip(python, "--index-url", local_index.url, "beta==1.0", "alpha<2"), installer_env)
    assert version_in(python, "alpha", installer_env) == "1.1"
    assert "/simple/beta/" in local_index.requests
    assert local_index.downloaded() == {
        wheel_corpus.wheel("alpha", "1.1").name,
        wheel_corpus.wheel("beta", "1.0").name,
    }

    # A second venv from the same cache needs no file downloads.
    local_index.clear_log()
    python2 = make_venv(tmp_path / "venv2", installer_env)
    ok(uv_pip(python2, "--index-url", local_index.url, "beta==1.0", "alpha<2"), installer_env)
    assert local_index.requests == []  # pages and files both served from the cache


@pytest.mark.parametrize(
    ("requirements", "named"),
    [
        (["beta==2.0", "gamma"], ["beta", "gamma"]),  # gamma needs beta<2
        (["beta==1.0", "delta"], ["alpha", "beta", "delta"]),  # alpha>=1.1 vs alpha<1.1
    ],
)
def test_conflicting_sets_conflict(
    local_index: IndexServer,
    installer_env: dict[str, str],
    tmp_path: Path,
    requirements: list[str],
    named: list[str],
) -> None:
    python = make_venv(tmp_path / "venv", installer_env)
    result = run(
        uv_pip(python, "--dry-run", "--index-url", local_index.url, *requirements), installer_env
    )
    assert result.returncode != 0
    assert "No solution found" in result.stderr
    for name in named:
        assert name in result.stderr


# -- the index server itself -----------------------------------------------------------------


def fetch(url: str, auth: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url)
    if auth:
        request.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_index_pages(local_index: IndexServer, wheel_corpus: Corpus) -> None:
    status, body = fetch(local_index.url + "/")
    assert status == 200 and b'href="/simple/bulk-12/"' in body
    status, body = fetch(local_index.url + "/Bulk_12/")  # non-normalised names resolve too
    wheel = wheel_corpus.wheel("bulk-12", "1.0")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert status == 200
    assert f'href="/files/{wheel.name}#sha256={digest}"'.encode() in body
    assert b"data-requires-python" not in body
    assert fetch(f"{local_index.base_url}/files/{wheel.name}") == (200, wheel.read_bytes())
    assert fetch(local_index.url + "/nope/")[0] == 404
    assert fetch(f"{local_index.base_url}/files/..%2Fsecret")[0] == 404
    assert local_index.file_requests() == [wheel.name, "..%2Fsecret"]


def test_auth_index(auth_index: IndexServer, installer_env: dict[str, str], tmp_path: Path) -> None:
    assert fetch(auth_index.url + "/")[0] == 401
    assert auth_index.url_with_credentials.startswith(f"http://{AUTH_USER}:{AUTH_PASSWORD}@")
    python = make_venv(tmp_path / "venv", installer_env)
    denied = run(uv_pip(python, "--index-url", auth_index.url, "alpha==1.0"), installer_env)
    assert denied.returncode != 0
    assert {entry.status for entry in auth_index.log} == {401}
    assert auth_index.downloaded() == set()
    with_credentials = auth_index.url_with_credentials
    ok(uv_pip(python, "--index-url", with_credentials, "alpha==1.0"), installer_env)
    assert version_in(python, "alpha", installer_env) == "1.0"
    assert auth_index.downloaded() == {"alpha-1.0-py3-none-any.whl"}


def test_dead_index_refuses(
    dead_index_url: str, installer_env: dict[str, str], tmp_path: Path
) -> None:
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(dead_index_url + "/", timeout=5)
    python = make_venv(tmp_path / "venv", installer_env)
    env = {**installer_env, "UV_HTTP_RETRIES": "0"}
    result = run(uv_pip(python, "--index-url", dead_index_url, "alpha"), env)
    assert result.returncode != 0


def test_isolated_env_drops_machine_settings(tmp_path: Path) -> None:
    env = isolated_env(tmp_path, {"PIP_FIND_LINKS": "/x", "UV_INDEX_URL": "http://x", "HOME": "/h"})
    assert "PIP_FIND_LINKS" not in env and "UV_INDEX_URL" not in env
    assert env["HOME"] == "/h" and env["UV_NO_CONFIG"] == "1"
    assert env["UV_CACHE_DIR"] == str(tmp_path / "uv")
