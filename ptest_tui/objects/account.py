"""Which account a host server runs as, and where its data lives so that account can reach it.

PostgreSQL refuses to run as root and MariaDB needs to be told to, so when ptest-tui runs as
root each database server runs as an unprivileged account: the one its Debian package
created (postgres, mysql, redis) when present, else ``nobody``. Run as any other user,
servers simply run as that user.

An unprivileged account must be able to walk down to its data folder. Workspaces under
``/root`` or a pytest temporary folder (both mode 0700) are out of its reach, so then the
data lives under ``/var/lib/ptest-tui/objects/<key>`` and the object's folder holds a
symlink to it (``data``) plus an ``owner`` file there saying whose it is.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pwd
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SHARED_DATA_ROOT = Path("/var/lib/ptest-tui/objects")


@dataclass(frozen=True)
class Account:
    """An unprivileged account a server runs as."""

    name: str
    uid: int
    gid: int

    def popen_options(self) -> dict[str, Any]:
        """``subprocess.Popen`` arguments that switch to this account."""
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def environment(self) -> dict[str, str]:
        """USER, LOGNAME and HOME that match the account."""
        home = "/"
        with contextlib.suppress(KeyError):
            home = pwd.getpwuid(self.uid).pw_dir or "/"
        return {"USER": self.name, "LOGNAME": self.name, "HOME": home}


def service_account(preferred: str) -> Account | None:
    """The account to drop to when running as root (None when not root).

    ``preferred`` is the kind's usual account (``postgres``); ``nobody`` is the fallback.
    """
    if os.geteuid() != 0:
        return None
    for name in (preferred, "nobody"):
        if not name:
            continue
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid != 0:
            return Account(name, entry.pw_uid, entry.pw_gid)
    return None


def reachable(path: Path, account: Account) -> bool:
    """Whether ``account`` may traverse every folder above ``path`` (by mode bits)."""
    for folder in path.absolute().parents:
        try:
            info = folder.stat()
        except OSError:
            return False
        if info.st_uid == account.uid:
            bit = stat.S_IXUSR
        elif info.st_gid == account.gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            return False
    return True


def data_key(folder: Path) -> str:
    """A short stable key for an object folder (names its shared data folder)."""
    return hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]


def prepare_data_dir(folder: Path, account: Account | None) -> Path:
    """Create (or find) the object's data folder, owned by ``account`` and reachable by it.

    Returns the real path; ``folder / "data"`` is that folder or a symlink to it.
    """
    link = folder / "data"
    folder.mkdir(parents=True, exist_ok=True)
    if account is None or reachable(folder, account):
        if link.is_symlink():
            return link.resolve()
        link.mkdir(exist_ok=True)
        target = link
    else:
        target = SHARED_DATA_ROOT / data_key(folder)
        target.mkdir(parents=True, exist_ok=True)
        for parent in (SHARED_DATA_ROOT.parent, SHARED_DATA_ROOT):
            parent.chmod(0o755)
        (target.parent / f"{target.name}.owner").write_text(str(folder.resolve()) + "\n")
        if not link.is_symlink():
            if link.exists():
                shutil.rmtree(link)
            link.symlink_to(target)
    if account is not None:
        os.chown(target, account.uid, account.gid)
    target.chmod(0o700)
    return target


def remove_data_dir(folder: Path) -> None:
    """Delete the object's data folder (and its shared target when it is a symlink)."""
    link = folder / "data"
    if link.is_symlink():
        target = link.resolve()
        shutil.rmtree(target, ignore_errors=True)
        target.with_name(f"{target.name}.owner").unlink(missing_ok=True)
        link.unlink()
    elif link.exists():
        shutil.rmtree(link, ignore_errors=True)


def orphaned_shared_data() -> list[Path]:
    """Shared data folders whose object folder no longer exists (for ``obj cleanup``)."""
    if not SHARED_DATA_ROOT.is_dir():
        return []
    orphans = []
    for owner in SHARED_DATA_ROOT.glob("*.owner"):
        try:
            folder = Path(owner.read_text().strip())
        except OSError:
            continue
        if not folder.exists():
            orphans.append(owner.with_suffix(""))
    return orphans
