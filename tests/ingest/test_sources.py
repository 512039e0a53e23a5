"""Source specs, the TOML sources file, and reading one source end to end."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import httpx
import pytest

from ingest.article import article_id
from ingest.sources import (
    SourceResult,
    SourcesFileError,
    SourceSpec,
    parse_sources_file,
    read_source,
    spec_from_argument,
)
from retrieval.errors import NewsbotError

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "samples" / "000_fea4cf2722b2191c.txt"
FILES = REPO / "tests" / "fixtures" / "files"


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- command-line arguments ----


@pytest.mark.parametrize(
    ("arg", "kind"),
    [
        ("https://peacewire.example/2021/03/doha-talks", "url"),
        ("http://peacewire.example/world?page=2", "url"),
        ("https://rss.example.com/world/story", "url"),  # "rss" in the host is no feed
        ("https://peacewire.example/rss.xml", "feed"),
        ("https://peacewire.example/news.RSS", "feed"),
        ("https://peacewire.example/index.atom", "feed"),
        ("https://peacewire.example/feed/", "feed"),
        ("https://peacewire.example/feeds/world", "feed"),
        ("https://peacewire.example/rss/world", "feed"),
    ],
)
def test_urls_from_arguments(arg: str, kind: str) -> None:
    spec = spec_from_argument(arg)

    assert (spec.kind, spec.location, spec.name, spec.outlet) == (kind, arg, "", None)
    assert spec.origin == arg


def test_anything_else_is_an_absolute_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    spec = spec_from_argument("seed/file.txt")
    assert spec.kind == "path"
    assert spec.location == str(tmp_path / "seed" / "file.txt")
    assert spec_from_argument("ftp://example.org/x").kind == "path"


# --- the sources file ----


def test_sources_file(tmp_path: Path) -> None:
    (tmp_path / "seed").mkdir()
    path = write_toml(
        tmp_path,
        """
        [[sources]]
        name = "rferl-seed"
        path = "seed"
        outlet = "RFE/RL"

        [[sources]]
        name = "peace-wire"
        feed = "https://peacewire.example/rss.xml"

        [[sources]]
        name = "one-story"
        url = "https://peacewire.example/2021/03/doha-talks"

        [[sources]]
        name = "elsewhere"
        path = "/srv/news"
        """,
    )

    assert parse_sources_file(path) == [
        SourceSpec("rferl-seed", "path", str(tmp_path / "seed"), "RFE/RL"),
        SourceSpec("peace-wire", "feed", "https://peacewire.example/rss.xml"),
        SourceSpec("one-story", "url", "https://peacewire.example/2021/03/doha-talks"),
        SourceSpec("elsewhere", "path", "/srv/news"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[sources]\nname = 1", "invalid TOML"),
        ("title = 'no sources here'", "no [[sources]] tables"),
        ("sources = 'text'", "no [[sources]] tables"),
        ("[[sources]]\npath = 'x'", "source #1: missing 'name'"),
        ("[[sources]]\nname = 'a'", "source #1 ('a'): needs exactly one of path, url, feed"),
        (
            "[[sources]]\nname = 'a'\npath = 'x'\nurl = 'https://e.org/'",
            "needs exactly one of path, url, feed (found path and url)",
        ),
        ("[[sources]]\nname = 'a'\npth = 'x'", "unknown key 'pth'"),
        ("[[sources]]\nname = 'a'\nurl = 'peacewire.example/x'", "'url' must be an http"),
        ("[[sources]]\nname = 'a'\nfeed = ''", "'feed' must be a non-empty string"),
        ("[[sources]]\nname = 'a'\npath = 'x'\noutlet = 3", "'outlet' must be a non-empty"),
        (
            "[[sources]]\nname = 'a'\npath = 'x'\n[[sources]]\nname = 'a'\npath = 'y'",
            "source #2: name 'a' is used twice",
        ),
    ],
)
def test_bad_sources_files(tmp_path: Path, text: str, message: str) -> None:
    path = write_toml(tmp_path, text)

    with pytest.raises(SourcesFileError, match=re.escape(message)) as caught:
        parse_sources_file(path)
    assert str(caught.value).startswith(str(path))
    assert isinstance(caught.value, NewsbotError)


def test_missing_sources_file(tmp_path: Path) -> None:
    with pytest.raises(SourcesFileError, match="sources file not found"):
        parse_sources_file(tmp_path / "nope.toml")


# --- reading a source ----


def test_path_source_outlet_and_origin(tmp_path: Path) -> None:
    shutil.copy(SEED, tmp_path / "seed.txt")
    shutil.copy(FILES / "records.jsonl", tmp_path / "records.jsonl")
    spec = SourceSpec("seed", "path", str(tmp_path), outlet="RFE/RL")
    result = read_source(spec)

    assert isinstance(result, SourceResult)
    assert result.spec == spec
    assert [a.source for a in result.articles] == ["Island Post", "Island Post", "RFE/RL"]
    assert {a.origin for a in result.articles} == {str(tmp_path.resolve())}
    assert len(result.failures) == 2  # the two bad lines of records.jsonl
    assert not result.complete


def test_outlet_falls_back_to_name_then_directory(tmp_path: Path) -> None:
    folder = tmp_path / "rferl"
    folder.mkdir()
    shutil.copy(SEED, folder / "seed.txt")

    named = read_source(SourceSpec("rferl-seed", "path", str(folder)))
    bare = read_source(spec_from_argument(str(folder / "seed.txt")))

    assert [a.source for a in named.articles] == ["rferl-seed"]
    assert [a.source for a in bare.articles] == ["rferl"]
    assert named.complete
    assert bare.complete
    assert named.articles[0].id == bare.articles[0].id == article_id(str(folder / "seed.txt"))
    assert bare.articles[0].origin == str(folder / "seed.txt")


def test_missing_path_source_is_incomplete(tmp_path: Path) -> None:
    result = read_source(SourceSpec("gone", "path", str(tmp_path / "gone")))

    assert result.articles == []
    assert [f.reason for f in result.failures] == ["no such file or directory"]
    assert not result.complete


def test_web_sources_need_a_client() -> None:
    with pytest.raises(ValueError, match=r"needs an httpx\.Client"):
        read_source(SourceSpec("w", "url", "https://peacewire.example/a"))


@pytest.mark.integration
def test_feed_source(web_server: str, http: httpx.Client) -> None:
    spec = SourceSpec("peace-wire", "feed", f"{web_server}/feeds/rss.xml", outlet="PW")
    result = read_source(spec, http=http)

    assert result.complete
    assert [a.source for a in result.articles] == ["Peace Wire", "Peace Wire"]
    assert {a.origin for a in result.articles} == {spec.origin}


@pytest.mark.integration
def test_feed_source_with_dead_links_keeps_notes(web_server: str, http: httpx.Client) -> None:
    spec = spec_from_argument(f"{web_server}/feeds/dead-links.xml")
    result = read_source(spec, http=http)

    assert spec.kind == "feed"
    assert len(result.articles) == 1
    assert len(result.notes) == 1
    assert "used the feed summary" in result.notes[0]
    assert not result.complete  # the entry without a summary failed


@pytest.mark.integration
def test_url_source(web_server: str, http: httpx.Client) -> None:
    spec = SourceSpec("story", "url", f"{web_server}/redirect/2", outlet="Wire Desk")
    result = read_source(spec, http=http)

    assert result.complete
    assert result.notes == []
    (article,) = result.articles
    assert article.source == "Wire Desk"
    assert article.url == f"{web_server}/articles/geneva.html"
    assert article.origin == spec.origin


@pytest.mark.integration
def test_url_source_failure_is_incomplete(web_server: str, http: httpx.Client) -> None:
    result = read_source(spec_from_argument(f"{web_server}/status/500"), http=http)

    assert [f.reason for f in result.failures] == ["HTTP 500 Internal Server Error"]
    assert not result.complete


def test_max_bytes_is_passed_down(tmp_path: Path) -> None:
    shutil.copy(SEED, tmp_path / "seed.txt")
    result = read_source(SourceSpec("s", "path", str(tmp_path)), max_bytes=100)

    assert [f.reason for f in result.failures] == ["file too large (2.8 KB, limit 100 bytes)"]
