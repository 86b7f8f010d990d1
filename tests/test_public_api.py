"""The public surface: one ``__all__`` (ruff RUF022 keeps it sorted), every name importable."""

from __future__ import annotations

import assistants_async


def test_all_is_sorted_unique_and_importable() -> None:
    names = assistants_async.__all__
    assert len(names) == len(set(names))
    missing = [name for name in names if not hasattr(assistants_async, name)]
    assert missing == []


def test_design_call_sites_resolve() -> None:
    client = assistants_async.AsyncAssistants(api_key="sk-x", base_url="http://127.0.0.1:9/v1")
    for path in (
        "assistants.create",
        "threads.create_and_run_poll",
        "threads.messages.list",
        "threads.runs.create_and_poll",
        "threads.runs.stream",
        "threads.runs.submit_tool_outputs_stream",
        "threads.runs.steps.list",
    ):
        target: object = client
        for part in path.split("."):
            target = getattr(target, part)
        assert callable(target), path


def test_errors_share_one_root() -> None:
    error_names = [n for n in assistants_async.__all__ if n.endswith("Error")]
    for name in error_names:
        cls = getattr(assistants_async, name)
        assert issubclass(cls, assistants_async.AssistantsError), name
