"""Sessions: tests, oldest (the suite on the lowest supported dependencies), lint, typecheck,
benchmarks."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.default_venv_backend = "venv"


@nox.session
def tests(session: nox.Session) -> None:
    session.install("-e", ".[test]")
    # Prism (npm) serves the OpenAPI spec for the conformance tier in tests/conformance.
    session.run(
        "npm", "ci", "--prefix", "tests/conformance", "--no-audit", "--no-fund", external=True
    )
    session.run("pytest", *session.posargs)


@nox.session
def oldest(session: nox.Session) -> None:
    session.install("-e", ".[test]", "-c", "tests/constraints-oldest.txt")
    # The conformance tier checks request shapes, which do not depend on these versions.
    session.run("pytest", "-m", "not prism", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    paths = ("assistants_async", "tests", "examples", "benchmarks", "noxfile.py")
    session.run("ruff", "check", *paths)
    session.run("ruff", "format", "--check", *paths)


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[cli,test]", "mypy")
    session.run("mypy", "assistants_async")


@nox.session
def benchmarks(session: nox.Session) -> None:
    session.install("-e", ".[bench]")
    session.run("python", "-m", "benchmarks", *session.posargs)
    session.run("python", "-m", "benchmarks.batch")
