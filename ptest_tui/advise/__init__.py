"""Advice from history: suggestions computed from stored runs, envs, samples and
benchmarks, each with the evidence that led to it (see docs/advise.md).

    with Session.open() as session:
        for item in session.advise():
            print(item.severity, item.message, *item.evidence, sep="\\n  ")

Each rule is a small function of an :class:`AdviseContext` returning :class:`Advice`
values; :data:`RULES` lists them and :func:`advise` runs them all.
"""

from ptest_tui.advise.context import AdviseContext
from ptest_tui.advise.engine import RULES, advise
from ptest_tui.advise.model import Advice, AdviceReport, AdviseSettings

__all__ = ["RULES", "Advice", "AdviceReport", "AdviseContext", "AdviseSettings", "advise"]
