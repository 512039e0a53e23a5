"""The error tree in retrieval/errors.py is complete: every NewsbotError anywhere in the
project is defined there and drawn in its docstring."""

import importlib
import pkgutil
import re

import retrieval.errors as errors
from retrieval.errors import NewsbotError

PACKAGES = ("retrieval", "ingest", "bot")


def _all_subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_all_subclasses(sub)}
    return found


def _import_everything() -> None:
    for name in PACKAGES:
        package = importlib.import_module(name)
        for module in pkgutil.walk_packages(package.__path__, f"{name}."):
            if not module.name.endswith(".__main__"):  # running it would run the CLI
                importlib.import_module(module.name)


def test_every_newsbot_error_lives_in_the_tree_and_is_drawn():
    _import_everything()
    subclasses = {
        c for c in _all_subclasses(NewsbotError) if c.__module__.split(".")[0] in PACKAGES
    }
    drawn = set(re.findall(r"[├└]── (\w+)", errors.__doc__))
    assert {c.__module__ for c in subclasses} == {"retrieval.errors"}
    assert {c.__name__ for c in subclasses} == drawn
    assert len(drawn) == 7


def test_store_errors_do_not_carry_raw_library_text(tmp_path):
    from retrieval.errors import StoreUnavailableError
    from retrieval.index.chroma import open_client

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data directory should be")
    try:
        open_client(blocker)
    except StoreUnavailableError as error:
        message = str(error)
    else:  # pragma: no cover - the file is in the way
        raise AssertionError("opening a store inside a file should fail")
    assert "details are in the log" in message
    assert "Errno" not in message
    assert "NotADirectoryError:" not in message
