"""Case kinds: pytest, command, http and sql (plugins add more)."""
