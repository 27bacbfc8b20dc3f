"""Helpers for tests that need the real Docker daemon and the locally built base image."""

from __future__ import annotations

from ptest_tui.engines.docker import DockerEngine
from ptest_tui.session import Session

IMAGE = "ptest-tui/python:3.11"


def docker_reason(engine: DockerEngine) -> str | None:
    """Why these tests cannot run here (daemon or base image missing), or None."""
    reason = engine.unavailable_reason()
    if reason:
        return reason
    import docker.errors

    try:
        engine.api().inspect_image(IMAGE)
    except docker.errors.ImageNotFound:
        return f"base image {IMAGE} missing (build it: ptest-tui image build --python 3.11)"
    return None


def engine_of(session: Session) -> DockerEngine:
    engine = session.engines.get("docker")
    assert isinstance(engine, DockerEngine)
    return engine


def remove_everything(session: Session) -> None:
    """Leave no container, network or volume of this workspace behind."""
    engine = engine_of(session)
    for leftover in engine.leftovers(set()):
        engine.remove_leftover(leftover)
