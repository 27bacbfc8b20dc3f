#!/usr/bin/env bash
# Prepare this machine for the test suite: system packages, a running Docker daemon and
# the locally built base image. Safe to run again: each step checks before acting.
# As root on Debian it installs what is missing; elsewhere it says what is missing, and
# tests that need it skip (or fail when PTEST_REQUIRE names it).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
log() { printf '[prepare] %s\n' "$*" >&2; }

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need_pkgs+=(debootstrap)
command -v rsvg-convert >/dev/null 2>&1 || need_pkgs+=(librsvg2-bin)
command -v tmux >/dev/null 2>&1 || need_pkgs+=(tmux)
# Database servers for the test objects (PostgreSQL's binaries live outside PATH on Debian).
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null 2>&1 || need_pkgs+=(postgresql)
command -v mariadbd >/dev/null 2>&1 || command -v mysqld >/dev/null 2>&1 || [[ -x /usr/sbin/mariadbd ]] || need_pkgs+=(mariadb-server)
command -v redis-server >/dev/null 2>&1 || need_pkgs+=(redis-server)

if ((${#need_pkgs[@]})); then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        log "installing ${need_pkgs[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
    else
        log "missing ${need_pkgs[*]}; install them (see docs/doctor.md) or run as root on Debian"
    fi
fi

docker_up() { timeout 5 docker info >/dev/null 2>&1; }
if command -v dockerd >/dev/null 2>&1 && ! docker_up; then
    if [[ $(id -u) -eq 0 ]]; then
        log "starting dockerd"
        mkdir -p /var/log
        nohup dockerd >/var/log/ptest-dockerd.log 2>&1 &
        for _ in $(seq 1 60); do docker_up && break; sleep 0.5; done
        docker_up || { log "dockerd did not start; see /var/log/ptest-dockerd.log"; tail -20 /var/log/ptest-dockerd.log >&2; }
    else
        log "the Docker daemon is not running and this user cannot start it"
    fi
fi

if docker_up; then
    image=$($BIN/python -c 'from ptest_tui.config.model import DockerConfig; print(DockerConfig().image)')
    if ! docker image inspect "$image" >/dev/null 2>&1; then
        if [[ $(id -u) -eq 0 ]] && command -v debootstrap >/dev/null 2>&1; then
            log "building the base image $image (debootstrap, about a minute)"
            $BIN/ptest-tui image build --python 3.11 --tag "$image"
        else
            log "base image $image missing and cannot be built here (needs root and debootstrap)"
        fi
    fi
    # Database servers for test objects with runtime = "docker" (tests/integration/test_objects_docker.py).
    objects=$($BIN/python -c 'from ptest_tui.objects.container import DEFAULT_IMAGE, IMAGE_PACKAGES; print(DEFAULT_IMAGE, IMAGE_PACKAGES)')
    read -r objects_image objects_packages <<<"$objects"
    if ! docker image inspect "$objects_image" >/dev/null 2>&1; then
        if [[ $(id -u) -eq 0 ]] && command -v debootstrap >/dev/null 2>&1; then
            log "building the objects image $objects_image (debootstrap with $objects_packages: about 2 minutes the first time, 10 s from the cached rootfs)"
            $BIN/ptest-tui image build --python 3.11 --packages "$objects_packages" --tag "$objects_image"
        else
            log "objects image $objects_image missing and cannot be built here (needs root and debootstrap)"
        fi
    fi
fi
log "ready"
