"""CLI, JSON API and web UI of kehoach-qa."""
