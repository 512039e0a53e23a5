"""Docs that drift fail the build: every setting is in .env.example and the README."""

import re
from pathlib import Path

from bot.settings import ServeSettings, env_names

ROOT = Path(__file__).resolve().parents[1]


def _example_names() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_env_example_lists_every_setting_and_nothing_else():
    assert _example_names() == set(env_names(ServeSettings))


def test_readme_mentions_every_setting():
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in env_names(ServeSettings) if name not in readme]
    assert missing == []


def test_every_setting_is_documented():
    undocumented = [
        name for name, field in ServeSettings.model_fields.items() if not field.description
    ]
    assert undocumented == []
