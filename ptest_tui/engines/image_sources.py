"""Choices behind ``ptest-tui image build``: Debian suite, mirror, tag and cache file.

Pure functions, no network and no daemon. The mirror is never hard-coded: it comes from
the ``--mirror`` flag, ``image.mirror`` in the configuration, or the first Debian archive
in this host's apt sources; with none of those, debootstrap uses its own default.
"""

from __future__ import annotations

import hashlib
import platform
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from ptest_tui.errors import UsageError

# Python version -> the Debian suite whose python3 is that version.
SUITES: dict[str, str] = {"3.9": "bullseye", "3.11": "bookworm", "3.13": "trixie"}
INCLUDE = ("python3", "python3-venv", "ca-certificates")
DEBIAN_SUITES = frozenset(
    {"buster", "bullseye", "bookworm", "trixie", "forky", "duke", "sid",
     "oldoldstable", "oldstable", "stable", "testing", "unstable"}
)
APT_SOURCES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))
DEFAULT_REPOSITORY = "ptest-tui/python"
# Images with extra packages (``image build --packages``) default to this repository, tagged
# by suite: ``ptest-tui/objects:bookworm`` holds the database servers for container objects.
PACKAGES_REPOSITORY = "ptest-tui/objects"
# Debian package names (policy 5.6.1): lowercase letters, digits, + - and ., two or more.
_PACKAGE_RE = re.compile(r"[a-z0-9][a-z0-9+.-]+")
_VERSION_RE = re.compile(r"^3\.\d{1,2}$")
# The docker reference grammar (distribution/reference), as the daemon applies it:
# lowercase path components joined by ".", "_", "__" or dashes; an optional registry
# host[:port] first; an optional tag of word characters, dots and dashes.
_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
MAX_NAME = 255


def supported() -> str:
    """``3.9, 3.11, 3.13`` for messages."""
    return ", ".join(sorted(SUITES, key=lambda v: tuple(int(p) for p in v.split("."))))


def check_python(python: str) -> str:
    """``X.Y`` for a base image (``3.11.4`` is cut to ``3.11``); UsageError otherwise."""
    short = ".".join(python.strip().split(".")[:2])
    if not _VERSION_RE.match(short):
        raise UsageError(f"invalid Python version {python!r}", f"use one of: {supported()}")
    return short


def suite_for(python: str, suite: str = "") -> str:
    """The Debian suite for ``python``, unless ``suite`` names one explicitly."""
    if suite:
        if not re.fullmatch(r"[a-z][a-z0-9-]*", suite):
            raise UsageError(f"invalid Debian suite {suite!r}", "use a codename such as bookworm")
        return suite
    short = check_python(python)
    if short not in SUITES:
        raise UsageError(
            f"no Debian suite ships Python {short} as python3",
            f"use --python with one of: {supported()} (or pass --suite)",
        )
    return SUITES[short]


def _valid_reference(reference: str) -> bool:
    name, tag = reference, ""
    last = reference.rfind(":")
    if last > reference.rfind("/"):  # a colon after the last slash starts the tag
        name, tag = reference[:last], reference[last + 1 :]
        if not _TAG.fullmatch(tag):
            return False
    if not name or len(name) > MAX_NAME:
        return False
    parts = name.split("/")
    # Like the daemon: the first part is a registry only with a dot, a port or localhost;
    # otherwise it is a path component and must be lowercase ("BAD/img" is refused).
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        if not _DOMAIN.fullmatch(parts[0]):
            return False
        parts = parts[1:]
    return all(_PATH_COMPONENT.fullmatch(part) for part in parts)


def check_tag(tag: str) -> str:
    """``tag`` if it is a valid docker image reference (``[registry[:port]/]path[:tag]``)."""
    if not tag or not _valid_reference(tag):
        raise UsageError(
            f"invalid image tag {tag!r}", "use lowercase repo[:tag], e.g. ptest-tui/python:3.11"
        )
    return tag


def default_tag(python: str, config_image: str, config_image_python: str = "") -> str:
    """``docker.image`` when it is for ``python`` (by label or by tag), else the default."""
    short = check_python(python)
    if config_image:
        tag = config_image.rsplit("/", 1)[-1].partition(":")[2]
        if config_image_python == short or (not config_image_python and tag == short):
            return config_image
    return f"{DEFAULT_REPOSITORY}:{short}"


def _list_entries(text: str) -> Iterator[tuple[str, list[str]]]:
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        words = line.split()
        if len(words) < 3 or words[0] != "deb":
            continue
        rest = words[1:]
        if rest[0].startswith("["):  # [arch=amd64 signed-by=...] options
            while rest and not rest[0].endswith("]"):
                rest = rest[1:]
            rest = rest[1:]
        if len(rest) >= 2:
            yield rest[0], [rest[1]]


def _deb822_entries(text: str) -> Iterator[tuple[str, list[str]]]:
    for paragraph in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = ""
        for raw in paragraph.splitlines():
            if raw.lstrip().startswith("#"):
                continue
            if raw[:1] in (" ", "\t") and key:
                fields[key] += " " + raw.strip()
                continue
            key, sep, value = raw.partition(":")
            if sep:
                key = key.strip().lower()
                fields[key] = value.strip()
        if fields.get("enabled", "yes").lower() == "no":
            continue
        if "deb" not in fields.get("types", "").split():
            continue
        suites = fields.get("suites", "").split()
        for uri in fields.get("uris", "").split():
            yield uri, suites


def source_files(locations: Iterable[Path] = APT_SOURCES) -> list[Path]:
    """apt source files in the order apt reads them (disabled files are skipped)."""
    files: list[Path] = []
    for location in locations:
        if location.is_dir():
            files += sorted(
                p for p in location.iterdir() if p.suffix in (".list", ".sources") and p.is_file()
            )
        elif location.is_file():
            files.append(location)
    return files


def host_mirror(locations: Iterable[Path] = APT_SOURCES) -> str:
    """The first Debian archive URI in the host's apt sources, or "" if there is none.

    An entry counts when one of its suites is a plain Debian codename or alias
    (``bookworm``, ``stable``): that skips security and update archives and third-party
    repositories, whose suites are named differently.
    """
    for path in source_files(locations):
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        entries = _deb822_entries(text) if path.suffix == ".sources" else _list_entries(text)
        for uri, suites in entries:
            if uri.startswith(("http://", "https://", "file:/")) and DEBIAN_SUITES & set(suites):
                return uri
    return ""


def pick_mirror(flag: str, configured: str, locations: Iterable[Path] = APT_SOURCES) -> str:
    """``--mirror``, else ``image.mirror``, else the host's; "" lets debootstrap choose."""
    return flag or configured or host_mirror(locations)


def check_packages(items: Iterable[str]) -> tuple[str, ...]:
    """Extra Debian packages for ``image build --packages`` (comma lists allowed).

    Returns them sorted, without duplicates and without the ones every image has anyway
    (:data:`INCLUDE`); UsageError names the first bad one.
    """
    found: set[str] = set()
    for item in items:
        for name in (part.strip() for part in item.split(",")):
            if not name:
                continue
            if not _PACKAGE_RE.fullmatch(name):
                raise UsageError(
                    f"invalid Debian package name {name!r}",
                    "use package names as apt knows them, e.g. postgresql,redis-server",
                )
            found.add(name)
    return tuple(sorted(found - set(INCLUDE)))


def include_for(packages: Iterable[str] = ()) -> tuple[str, ...]:
    """What debootstrap installs: :data:`INCLUDE` plus ``packages``."""
    return INCLUDE + tuple(p for p in sorted(set(packages)) if p not in INCLUDE)


def packages_tag(suite: str) -> str:
    """The default tag of an image with extra packages: ``ptest-tui/objects:SUITE``."""
    return f"{PACKAGES_REPOSITORY}:{suite}"


def packages_digest(include: Iterable[str] = INCLUDE) -> str:
    """Eight hex digits naming a package set (order and duplicates do not matter)."""
    packages = ",".join(sorted(set(include)))
    return hashlib.sha256(packages.encode()).hexdigest()[:8]


def cache_name(suite: str, include: Iterable[str] = INCLUDE) -> str:
    """The rootfs tarball's file name: suite, machine and package set (not the mirror)."""
    return f"{suite}-{platform.machine()}-minbase-{packages_digest(include)}.tar.gz"
