"""Strings of the graph page."""

STRINGS: dict[str, dict[str, str]] = {}
