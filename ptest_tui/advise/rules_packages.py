"""Rules over installed packages: the pip backend where uv is faster, and conflicts."""

from __future__ import annotations

from ptest_tui.advise.context import AdviseContext
from ptest_tui.advise.model import Advice, seconds
from ptest_tui.benchmark.records import BenchmarkHistory
from ptest_tui.packages.check import check_inventory
from ptest_tui.packages.inventory import PIP_TOOLING  # seeded by ensurepip: says nothing


def pip_backend(ctx: AdviseContext) -> list[Advice]:
    """Envs whose packages go through pip, where uv would install them faster.

    An env uses pip when packages.installer is pip, or when most of its packages say
    pip installed them (their INSTALLER file). The evidence is this machine's install
    benchmark for the env's engine when there is one; when the benchmark found uv no
    faster, there is no advice.
    """
    configured = ctx.session.package_service.installer_name()
    history = BenchmarkHistory(ctx.session.store)
    found: list[Advice] = []
    for record in ctx.envs():
        inventory = ctx.inventory(record)
        if inventory is None:
            continue
        packages = [d for d in inventory.dists if d.key not in PIP_TOOLING]
        by_pip = [d for d in packages if d.installer == "pip"]
        mostly_pip = bool(packages) and 2 * len(by_pip) > len(packages)
        if configured != "pip" and not mostly_pip:
            continue
        evidence: list[str] = []
        if configured == "pip":
            evidence.append("packages.installer is pip (the installer of every env here)")
        if packages:
            evidence.append(f"{len(by_pip)} of {len(packages)} installed packages were installed"
                            " by pip (their INSTALLER file)")
        pair = history.install_pair(record.isolation)
        severity = "low"
        if pair is None:
            evidence.append(
                "not measured on this machine yet: `ptest-tui benchmark --scenarios install`"
                " compares both"
            )
        else:
            uv, pip = pair
            if uv.median >= pip.median:
                ctx.skipped.append(
                    f"pip backend of {record.name}: benchmark {uv.batch} found uv no faster"
                    f" than pip in {record.isolation} envs ({seconds(uv.median)} vs"
                    f" {seconds(pip.median)})"
                )
                continue
            ratio = pip.median / uv.median if uv.median > 0 else float("inf")
            evidence.append(
                f"benchmark {uv.batch}: installing a wheel into a {record.isolation} env took"
                f" {seconds(pip.median)} with pip vs {seconds(uv.median)} with uv"
                f" (median of {len(pip.samples)} and {len(uv.samples)} runs, {ratio:.1f}x)"
            )
            severity = "medium" if ratio >= 1.5 else "low"
        if configured == "pip":
            how = 'set installer = "uv" in [packages] of ptest.toml'
        else:
            how = f"reinstall them with uv (ptest-tui pkg sync {record.name} LOCK after" \
                  f" ptest-tui pkg lock {record.name})"
        found.append(Advice(
            kind="pip-backend",
            target_kind="env",
            target=record.name,
            message=f"{record.name} installs its packages with pip; uv would be faster: {how}",
            evidence=tuple(evidence),
            severity=severity,
            env=record.name,
        ))
    return found


def package_conflicts(ctx: AdviseContext) -> list[Advice]:
    """Envs where an installed package's requirement is missing or not met (pkg check)."""
    found: list[Advice] = []
    for record in ctx.envs():
        inventory = ctx.inventory(record)
        if inventory is None:
            continue
        report = check_inventory(record.name, inventory)
        if report.ok:
            continue
        kinds = sorted({p.kind for p in report.problems})
        found.append(Advice(
            kind="package-conflicts",
            target_kind="env",
            target=record.name,
            message=f"{record.name} has {len(report.problems)} unmet package requirement(s)"
            f" ({' and '.join(kinds)}): install or pin what is named (ptest-tui pkg check"
            f" {record.name})",
            evidence=(
                f"{len(report.problems)} problem(s) among {report.checked} installed packages",
                *(problem.describe() for problem in report.problems[:5]),
            ),
            severity="high",
            env=record.name,
        ))
    return found
