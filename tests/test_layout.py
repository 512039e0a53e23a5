"""The project's shape: imports point bot -> ingest -> retrieval, and only bot/ talks Telegram."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = {"retrieval": set(), "ingest": {"retrieval"}, "bot": {"ingest", "retrieval"}}
OURS = set(ALLOWED)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_imports_point_one_way():
    wrong = []
    for package, allowed in ALLOWED.items():
        for path in (ROOT / package).rglob("*.py"):
            for name in imported_modules(path):
                top = name.split(".")[0]
                if top in OURS and top != package and top not in allowed:
                    wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []


def test_only_bot_telegram_imports_telegram():
    offenders = [
        str(path.relative_to(ROOT))
        for package in OURS
        for path in (ROOT / package).rglob("*.py")
        if any(n.split(".")[0] == "telegram" for n in imported_modules(path))
        and not path.is_relative_to(ROOT / "bot" / "telegram")
    ]
    assert offenders == []


def test_only_the_runtime_builds_parts():
    """One composition root: stores, models, answerers and HTTP clients are built in
    bot/runtime.py (the classes' own modules and tests aside)."""
    builders = ("open_store(", "load_embedder(", "LazyEmbedder(", "NewsAnswerer(", "httpx.Client(")
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / "bot").rglob("*.py")
        if path.name != "runtime.py"
        for name in builders
        if name in path.read_text()
    ]
    assert offenders == []


def test_only_one_module_builds_the_embedding_model():
    builders = [
        str(path.relative_to(ROOT))
        for package in OURS
        for path in (ROOT / package).rglob("*.py")
        if "sentence_transformers" in path.read_text()
    ]
    assert builders == ["retrieval/embedding.py"]
