"""Every script in examples/ runs as users run it (a subprocess, embedded server, no network)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"

# What each example must print: the words that show it did its job end to end.
EXPECTED: dict[str, list[str]] = {
    "quickstart.py": [": completed", "assistant: ", "Hello from the quickstart!"],
    "streaming.py": [
        "text_deltas: ",
        "Stream this sentence back to me, please.",
        "final run: completed, 1 new message(s)",
        "usage: ",
        "cites ",
    ],
    "polling.py": [
        'get_weather({"city": "Paris"}) -> sunny, 21 C in Paris',
        'get_weather({"city": "Oslo"}) -> sunny, 21 C in Oslo',
        "run completed",
        "get_weather returned: sunny, 21 C in Paris",
        "get_weather returned: sunny, 21 C in Oslo",
    ],
    # examples/tools.py belongs to the tools work; it needs runs.stream(..., toolbox=...).
    "tools.py": ["streamed:", "run completed", "polled: run completed", "get_weather returned"],
    "batch.py": [
        "pass 1 stopped: ",
        "pass 2: skipped ",
        "rate limited 6 times, concurrency went down to ",
        "statuses: {'completed': ",
        "results file: 19 lines, 19 distinct items",
        "weather: get_weather returned: sunny, 21 C in Lisbon",
    ],
    "aiohttp_proxy.py": [
        "NDJSON content-type: application/x-ndjson",
        "rebuilt from NDJSON: ",
        "Hello through the proxy",
        "run status seen through the proxy: completed",
        "SSE content-type: text/event-stream",
        "rebuilt from SSE: ",
        "  citation ",
    ],
}


def test_every_example_is_covered() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


# Examples are what users copy: they use the public surface only.
PUBLIC_MODULES = {"assistants_async", "assistants_async.testing", "assistants_async.types"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_imports_only_public_modules(name: str) -> None:
    import assistants_async

    tree = ast.parse((EXAMPLES / name).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("assistants_async"):
            assert node.module in PUBLIC_MODULES, f"{name} imports {node.module}"
            if node.module == "assistants_async":
                for alias in node.names:
                    assert alias.name in assistants_async.__all__, alias.name
        if isinstance(node, ast.Import):
            for alias in node.names:
                assert not alias.name.startswith("assistants_async."), alias.name


@pytest.mark.timeout(45)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(name: str) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("OPENAI_API_KEY", None)
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=40,
        env=env,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    for expected in EXPECTED[name]:
        assert expected in proc.stdout, f"{expected!r} missing from:\n{proc.stdout}"
