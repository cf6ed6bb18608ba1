"""Textual stylesheets of the console, shipped inside the wheel as ``tui.styles``."""
