"""Loopback Assistants server (filled in by the server work)."""
