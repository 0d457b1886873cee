"""Jinja2 templates of the citizen documents (package data)."""
