"""The project's shape: imports point bot -> ingest -> retrieval, retrieval's rooms point down
(answer -> search -> index; eval/ apart), only bot/ talks Telegram, and the tooling beside the
packages (devkit/, bench/, tests/) is neither shipped nor imported by them."""

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


def test_only_one_module_builds_the_embedding_model():
    builders = [
        str(path.relative_to(ROOT))
        for package in SHIPPED
        for path in (ROOT / package).rglob("*.py")
        if "sentence_transformers" in path.read_text()
    ]
    assert builders == ["retrieval/embedding.py"]


# retrieval/'s rooms, each with the rooms it may import (the flat leaves are open to all):
# an answer is made from what search returns and never touches the index, so no answer code
# can reach the index writer (`Transaction`, the lease); eval/ scores from plain data.
LEAVES = {"embedding", "errors", "sentence_vectors", "sentences", "tokens", "types"}
ROOMS = {
    "index": set(),
    "search": {"index"},
    "answer": {"search"},
    "stories": {"index", "search"},
    "eval": set(),
}


def retrieval_part(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "retrieval" and len(parts) > 1 else None


def test_retrieval_is_rooms_and_leaves():
    on_disk = {p.stem if p.is_file() else p.name for p in (ROOT / "retrieval").iterdir()}
    assert on_disk - {"__init__", "__pycache__"} == LEAVES | set(ROOMS)


def test_retrieval_rooms_import_only_the_rooms_below_them():
    wrong = []
    for path in (ROOT / "retrieval").rglob("*.py"):
        here = path.relative_to(ROOT / "retrieval").parts[0].removesuffix(".py")
        allowed = LEAVES | ROOMS.get(here, set()) | {here}
        for name in imported_modules(path):
            part = retrieval_part(name)
            if part is not None and part not in allowed:
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []


def test_only_the_eval_command_imports_eval():
    """Scoring is for `newsbot eval` and bench/: serving, ingesting and answering never use it."""
    importers = sorted(
        str(path.relative_to(ROOT))
        for package in SHIPPED
        for path in (ROOT / package).rglob("*.py")
        if not path.is_relative_to(ROOT / "retrieval" / "eval")
        and any(retrieval_part(n) == "eval" for n in imported_modules(path))
    )
    assert importers == ["bot/cli/eval_cmd.py"]
