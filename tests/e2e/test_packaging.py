"""The wheel builds, installs into a fresh venv and carries its data files (themes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_wheel_installs_into_fresh_venv_with_themes(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "-o", str(dist), str(REPO)],
        check=True,
        capture_output=True,
    )
    wheels = list(dist.glob("ptest_tui-*.whl"))
    assert len(wheels) == 1
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    uv = Path(sys.executable).parent / "uv"
    # Dependencies come from this interpreter's environment so no index is needed.
    site = subprocess.run(
        [sys.executable, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    subprocess.run(
        [str(uv), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
         "--no-deps", str(wheels[0])],
        check=True,
    )
    pth = next((venv / "lib").glob("python3.*/site-packages"))
    (pth / "deps.pth").write_text(site + "\n")
    check = (
        "import importlib.resources as r, ptest_tui;"
        "names = sorted(p.name for p in r.files('ptest_tui.themes').iterdir()"
        " if p.name.endswith('.toml'));"
        "print(','.join(names))"
    )
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", check],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    ).stdout.strip()
    shipped = set(out.split(","))
    assert {"ptest-dark.toml", "ptest-light.toml", "ptest-high-contrast.toml"} <= shipped
    version = subprocess.run(
        [str(venv / "bin" / "ptest-tui"), "--version"],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    )
    assert version.stdout.startswith("ptest-tui ")
    templates = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import importlib.resources as r; print(sorted(p.name for p in"
         " (r.files('ptest_tui.config') / 'templates').iterdir()))"],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    ).stdout
    assert "minimal.toml" in templates
