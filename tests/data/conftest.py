"""Data for tests, not tests: the sample pytest suite is run by the tests, never collected."""

collect_ignore = ["sample_suite"]
