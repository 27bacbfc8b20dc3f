"""Test cases, suites and runs: what ptest-tui exists for."""
