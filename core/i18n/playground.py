"""Strings of the playground page."""

STRINGS: dict[str, dict[str, str]] = {}
