"""Engine benchmarks on this machine: create, install, exec and snapshot per engine,
repeated, with median and spread, stored in the workspace history (docs/cli.md).

    with Session.open() as session:
        report = session.benchmark_engines(["virtualenv"], ["create", "exec"], runs=5)
        for result in report.results:
            print(result.engine, result.label, result.median)

Named ``benchmark`` (singular) so it does not clash with the repository's benchmarks/
folder of development benchmarks.
"""

from ptest_tui.benchmark.model import (
    PREFIX,
    SCENARIOS,
    BenchmarkReport,
    BenchmarkResult,
)
from ptest_tui.benchmark.records import BenchmarkHistory
from ptest_tui.benchmark.runner import benchmark_engines

__all__ = [
    "PREFIX",
    "SCENARIOS",
    "BenchmarkHistory",
    "BenchmarkReport",
    "BenchmarkResult",
    "benchmark_engines",
]
