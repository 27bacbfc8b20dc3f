"""Widgets of the main screen: environments table, detail panel and log pane."""
