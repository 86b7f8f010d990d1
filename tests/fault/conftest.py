"""Fixtures of the fault tier (``harness``, ``raw_server``); helpers live in fault_support."""

from __future__ import annotations

from fault_support import harness, raw_server  # noqa: F401
