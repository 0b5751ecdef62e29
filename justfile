# creditline tasks. `python3 dev.py <recipe>` runs these on a machine without uv or just.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Serve the API (SQLite + sandbox gateway by default), after applying migrations.
serve *args:
    uv sync --frozen --quiet
    uv run creditline serve {{args}}

# Run the whole test suite (PostgreSQL: TEST_DATABASE_URL, else Docker, else an embedded server).
test *args:
    uv sync --frozen --quiet
    uv run pytest {{args}}

# ruff, mypy (strict on domain and application), import-linter layer contracts.
lint:
    uv sync --frozen --quiet
    uv run ruff check .
    uv run ruff format --check .
    uv run mypy
    uv run lint-imports

# Format the code.
fmt:
    uv run ruff format .
    uv run ruff check --fix .

# Benchmarks on PostgreSQL: webhooks, reads, batch and memory against same-run references
# (pgbench, a bare endpoint); writes bench/results/<date>.json and .png. Installs wrk
# (apt-get) when missing. `just bench --scale`: again at ten million ledger rows.
bench *args:
    uv sync --frozen --quiet
    uv run python -m benchmarks.suite {{args}}

# Apply migrations to DATABASE_URL.
migrate:
    uv run creditline db upgrade

# Benchmark of `batch expire-sessions` on PostgreSQL (rows/s, one and two workers).
bench-batch *args:
    uv sync --frozen --quiet
    uv run python -m benchmarks.batch_expire {{args}}

# Schemathesis, every check, against every operation with user, admin and operator keys
# (in-process, SQLite, sandbox gateway). The normal test run does a short budget of it.
fuzz examples="60":
    uv sync --frozen --quiet
    FUZZ_EXAMPLES={{examples}} FUZZ_STATEFUL=1 uv run pytest -p no:cacheprovider -s -q tests/e2e/test_openapi_contract.py

# Benchmark of spending: single and batched debits through the server against pgbench.
bench-debits *args:
    uv sync --frozen --quiet
    uv run python -m benchmarks.debits {{args}}
