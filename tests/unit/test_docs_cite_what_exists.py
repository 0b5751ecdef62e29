"""The documents in docs/ name modules, tests and functions: each must exist.

Code comments cite docs/, and docs/ cites code; when code moves, this test says which
line of which document went stale.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").glob("*.md"))
PATH = re.compile(
    r"`((?:domain|application|adapters|entrypoints|tests|alembic|benchmarks)/[\w/.-]+)`"
)
TEST = re.compile(r"`((?:tests)/[\w/.-]+\.py)::(\w+)`")
# "`module.py`: `name`": the document says the name is defined or used in that module.
NAMED = re.compile(r"`((?:domain|application|adapters|entrypoints)/[\w/.-]+\.py)`: `(\w+)`")
CITED = re.compile(r"docs/([\w-]+\.md)")


def test_every_cited_path_exists() -> None:
    missing = [
        f"docs/{doc.name}: {path}"
        for doc in DOCS
        for path in PATH.findall(doc.read_text())
        if not (ROOT / path).exists()
    ]
    assert not missing, missing


def test_every_cited_test_exists() -> None:
    missing = [
        f"docs/{doc.name}: {path}::{name}"
        for doc in DOCS
        for path, name in TEST.findall(doc.read_text())
        if not re.search(rf"def {name}\b", (ROOT / path).read_text())
    ]
    assert not missing, missing


def test_every_name_cited_in_a_module_is_there() -> None:
    missing = [
        f"docs/{doc.name}: {path}: {name}"
        for doc in DOCS
        for path, name in NAMED.findall(doc.read_text())
        if (ROOT / path).exists() and not re.search(rf"\b{name}\b", (ROOT / path).read_text())
    ]
    assert not missing, missing


def test_every_document_a_comment_cites_exists() -> None:
    cited = {
        m
        for folder in ("domain", "application", "adapters", "entrypoints", "tests")
        for py in (ROOT / folder).rglob("*.py")
        for m in CITED.findall(py.read_text())
    }
    missing = sorted(c for c in cited if not (ROOT / "docs" / c).exists())
    assert not missing, f"code cites docs that do not exist: {missing}"
