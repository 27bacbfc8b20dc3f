"""Modal screens: help, confirmation, create-environment and run-command dialogs."""
