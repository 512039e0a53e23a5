"""Local files and directories: every format, and every kind of bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ingest.article import article_id
from ingest.files import (
    DEFAULT_MAX_BYTES,
    parse_front_matter,
    parse_markdown,
    parse_record,
    read_path,
)
from ingest.scraped import ContentError
from tests.conftest import SHARED

REPO = Path(__file__).resolve().parents[2]
FILES = REPO / "tests" / "fixtures" / "files"
WEB = REPO / "tests" / "fixtures" / "web"
SEED = REPO / "samples" / "000_fea4cf2722b2191c.txt"
CORPUS = SHARED / "data" / "multihop-rag" / "corpus.json"

STORY = "Negotiators met again on Monday and agreed to continue the talks next week in Doha."


def reasons(collected) -> list[str]:
    return [failure.reason for failure in collected.failures]


# --- front matter and records: pure ----


def test_front_matter_is_parsed_by_hand() -> None:
    meta, body = parse_front_matter(
        "---\ntitle: \"Talks: a new round\"\ndate: 2023-06-09\nAuthor: 'C. Rojas'\n"
        "# a comment\nempty:\n---\nBody text.\n"
    )

    assert meta == {"title": "Talks: a new round", "date": "2023-06-09", "author": "C. Rojas"}
    assert body == "Body text."


def test_text_without_front_matter_is_left_alone() -> None:
    assert parse_front_matter("# Title\n\nBody\n") == ({}, "# Title\n\nBody\n")


def test_unclosed_front_matter_is_an_error() -> None:
    with pytest.raises(ContentError, match="never closed"):
        parse_front_matter("---\ntitle: Open\nBody text\n")


def test_markdown_title_from_heading_and_paragraphs_unwrapped() -> None:
    page = parse_markdown(
        "Intro line\n# The  Headline #\n\nA wrapped\nparagraph.\n\n\n- one\n- two\n"
    )

    assert page.title == "The Headline"
    assert page.body == "Intro line\n\nA wrapped paragraph.\n\n- one\n- two"
    assert page.date is None
    assert page.url is None


def test_markdown_front_matter_wins_and_bad_date_is_noted() -> None:
    notes: list[str] = []
    page = parse_markdown(
        "---\ntitle: From Front Matter\npublished_at: soon\nurl: not-a-url\n---\n"
        "# Heading\n\nText.",
        notes,
    )

    assert page.title == "From Front Matter"
    assert page.body == "# Heading\n\nText."
    assert page.date is None
    assert page.url is None
    assert notes == ["unrecognised date 'soon': left empty"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Just text without any heading.\n", "no title"),
        ("# Only a Title\n", "no article text"),
    ],
)
def test_markdown_without_title_or_body_is_refused(text: str, reason: str) -> None:
    with pytest.raises(ContentError, match=reason):
        parse_markdown(text)


def test_record_fields() -> None:
    notes: list[str] = []
    page, key = parse_record(
        {
            "id": 7,
            "title": "  Yemen Truce  Renewed ",
            "text": "Para one.\n\nPara two.",
            "url": "https://gulf.example/a",
            "source": "Gulf Monitor",
            "published_at": "2022-06-02 14:00:00.000000000Z",
            "author": "A. Writer",
            "category": "ignored",
        },
        notes,
    )

    assert key == "7"
    assert page.title == "Yemen Truce Renewed"
    assert page.body == "Para one.\n\nPara two."
    assert page.sitename == "Gulf Monitor"
    assert page.date == "2022-06-02T14:00:00+00:00"
    assert page.author == "A. Writer"
    assert notes == []


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"body": "text"}, "missing title"),
        ({"title": "  ", "body": "text"}, "missing title"),
        ({"title": "T"}, r"missing body \(or text\)"),
        ({"title": 12, "body": "text"}, "'title' must be text"),
        ({"title": "T", "body": ["a"]}, "'body' must be text"),
        (["title", "body"], r"not an object \(got a list\)"),
        (None, r"not an object \(got null\)"),
    ],
)
def test_bad_records_are_refused(record: object, reason: str) -> None:
    with pytest.raises(ContentError, match=reason):
        parse_record(record)


def test_unreadable_date_and_url_are_left_empty_with_notes() -> None:
    notes: list[str] = []
    page, _ = parse_record(
        {"title": "T", "body": "B", "published_at": "sometime", "url": "ftp://x/y"}, notes
    )

    assert page.date is None
    assert page.url is None
    assert notes == [
        "unrecognised date 'sometime': left empty",
        "not an http(s) URL 'ftp://x/y': left empty",
    ]


# --- single files ----


def test_seed_text_file() -> None:
    collected = read_path(SEED)

    assert collected.failures == []
    (article,) = collected.articles
    assert article.title == "Russia Plans Afghan Conference To Advance Peace Talks"
    assert article.body.startswith("Russia's presidential envoy to Afghanistan, Zamir Kabulov,")
    assert "Accessibility links" not in article.body
    assert "Breaking News" not in article.body
    assert "Based on reporting" not in article.body
    assert article.attribution == "Based on reporting by AFP, AP, dpa, Interfax, Reuters and TASS"
    assert article.source == "samples"  # the parent directory, when no outlet is given
    assert article.origin == str(SEED)
    assert article.id == article_id(str(SEED))
    assert article.published_at is None
    assert article.url is None


def test_text_file_without_headline() -> None:
    assert reasons(read_path(FILES / "no_headline.txt")) == [
        "no headline found: the text starts with a paragraph"
    ]


def test_outlet_argument_is_used_when_the_file_names_none() -> None:
    (article,) = read_path(SEED, outlet="RFE/RL", origin="seed-origin").articles

    assert article.source == "RFE/RL"
    assert article.origin == "seed-origin"


def test_markdown_file_with_front_matter() -> None:
    (article,) = read_path(FILES / "collection" / "02_front_matter.md", outlet="ignored").articles

    assert article.title == "Colombia and ELN Agree on Six-Month Ceasefire"
    assert article.source == "Andes Daily"
    assert article.author == "Camila Rojas"
    assert article.published_at == "2023-06-09T00:00:00+00:00"
    assert article.url == "https://andes.example/2023/06/colombia-eln-ceasefire"
    assert article.id == article_id(article.url)
    assert article.body.count("\n\n") == 2
    assert "\n" not in article.body.split("\n\n")[0]  # hard-wrapped lines joined


def test_html_file() -> None:
    (article,) = read_path(WEB / "doha.html").articles

    assert article.title == "Envoys Meet in Doha as Ceasefire Talks Resume"
    assert article.source == "Peace Wire"
    assert article.published_at == "2021-03-10T14:30:00+03:00"
    assert article.url == "https://peacewire.example/2021/03/doha-talks"  # canonical link
    assert article.id == article_id("https://peacewire.example/2021/03/doha-talks")


def test_html_file_without_article() -> None:
    collected = read_path(WEB / "no_article.html")

    assert collected.articles == []
    assert reasons(collected) == ["no article text found in the page"]


def test_json_list_with_bad_records_among_good_ones() -> None:
    path = FILES / "records.json"
    collected = read_path(path)

    assert [a.title for a in collected.articles] == [
        "Yemen Truce Renewed for Two Months",
        "Prisoner Swap Completes in Yemen",
    ]
    assert [(f.source, f.reason) for f in collected.failures] == [
        (str(path), "record 1: missing title"),
        (str(path), "record 2: not an object (got text)"),
        (str(path), "record 4: missing body (or text)"),
    ]
    assert collected.notes == [
        f"{path}: record 3: unrecognised date 'sometime in April': left empty"
    ]
    first, second = collected.articles
    assert first.id == article_id("https://gulf.example/yemen-truce-renewed")
    assert first.published_at == "2022-06-02T14:00:00+00:00"
    assert second.id == article_id(f"{path}#3")  # no URL: path plus record index
    assert second.published_at is None
    assert second.notes == ("unrecognised date 'sometime in April': left empty",)


def test_jsonl_with_a_corrupt_line() -> None:
    path = FILES / "records.jsonl"
    collected = read_path(path)

    assert [a.title for a in collected.articles] == [
        "Manila and Rebels Sign Framework Deal",
        "Bangsamoro Law Ratified",
    ]
    assert collected.articles[0].id == article_id(f"{path}#ph-1")  # the record's own id
    assert collected.articles[1].published_at == "2019-01-25T00:00:00+00:00"
    failures = reasons(collected)
    assert len(failures) == 2
    assert failures[0].startswith("record 1 (line 2): invalid JSON: Unterminated string")
    assert failures[1] == "record 3 (line 5): not an object (got a list)"


@pytest.mark.parametrize(
    ("name", "title", "published_at"),
    [
        (
            "wrapped.json",
            "Northern Ireland Marks Good Friday Agreement Anniversary",
            "2023-04-10T12:00:00+00:00",
        ),
        ("single.json", "Mozambique Peace Deal Signed", "2019-08-06T10:00:00+02:00"),
    ],
)
def test_json_shapes(name: str, title: str, published_at: str) -> None:
    collected = read_path(FILES / name)

    assert collected.failures == []
    (article,) = collected.articles
    assert (article.title, article.published_at) == (title, published_at)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"title": "x", ', "invalid JSON: Expecting property name enclosed in double quotes"),
        ('"just text"', "JSON holds no records"),
        ("[]", "JSON holds an empty list of records"),
    ],
)
def test_json_files_without_records(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)

    assert reasons(read_path(path))[0].startswith(reason)


def test_duplicate_urls_in_one_file_are_skipped_with_a_note(tmp_path: Path) -> None:
    record = {"title": "T", "body": STORY, "url": "https://example.org/a"}
    path = tmp_path / "dupes.jsonl"
    path.write_text(json.dumps(record) + "\n" + json.dumps(record) + "\n")
    collected = read_path(path)

    assert len(collected.articles) == 1
    assert collected.failures == []
    assert collected.notes == [
        f"{path}: record 1 (line 2): same article as record 0 (line 1) (same URL or id); skipped"
    ]


# --- bad input ----


def test_missing_path() -> None:
    collected = read_path("/nonexistent/newsbot/nothing.txt")

    assert [(f.source, f.reason) for f in collected.failures] == [
        ("/nonexistent/newsbot/nothing.txt", "no such file or directory")
    ]


@pytest.mark.parametrize("content", [b"", b"  \n\n\t  \n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(content)

    assert reasons(read_path(path)) == ["file is empty"]


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "photo.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))

    assert reasons(read_path(path)) == ["binary file (contains NUL bytes), not text"]


def test_windows_1252_text_is_detected_with_a_note() -> None:
    path = FILES / "cp1252.txt"
    collected = read_path(path)

    (article,) = collected.articles
    assert article.title == "Talks in Bogotá Reach “Decisive” Phase"
    assert article.attribution == "Based on reporting by EFE"
    assert article.notes == ("not valid UTF-8: detected Windows-1252",)
    assert collected.notes == [f"{path}: not valid UTF-8: detected Windows-1252"]


def test_text_whose_encoding_cannot_be_told_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "mystery.txt"
    path.write_bytes(b"A Headline About Talks\n\nBad bytes \x81\x8d here.\n")

    assert reasons(read_path(path)) == [
        "cannot tell the text encoding: not UTF-8 (undecodable byte at offset 34), and 2 bytes "
        "outside ASCII are too few to detect it"
    ]


def test_utf8_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "bom.md"
    path.write_bytes("\ufeff# Headline With a Mark\n\nBody.\n".encode())

    (article,) = read_path(path).articles
    assert article.title == "Headline With a Mark"
    assert article.notes == ()


def test_huge_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    with path.open("wb") as handle:  # sparse: no 51 MB written to disk
        handle.truncate(DEFAULT_MAX_BYTES + 1024 * 1024)

    assert reasons(read_path(path)) == ["file too large (51.0 MB, limit 50.0 MB)"]


def test_max_bytes_argument(tmp_path: Path) -> None:
    path = tmp_path / "small.md"
    path.write_text("# Title of the Piece\n\n" + STORY * 30)

    assert reasons(read_path(path, max_bytes=1000)) == ["file too large (2.5 KB, limit 1000 bytes)"]
    assert len(read_path(path, max_bytes=10_000).articles) == 1


def test_unsupported_file_named_directly(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(b"%PDF-1.4")

    assert reasons(read_path(path)) == [
        "unsupported file type '.pdf' (supported: .txt, .md, .html, .htm, .json, .jsonl)"
    ]


# --- directories ----


def test_directory_is_read_recursively_in_order() -> None:
    directory = FILES / "collection"
    collected = read_path(directory)

    assert collected.failures == []
    assert [a.title for a in collected.articles] == [
        "Sudan Ceasefire Extended by Seventy-Two Hours",
        "Colombia and ELN Agree on Six-Month Ceasefire",
        "Ethiopia and Tigray Leaders Sign Truce in Pretoria",
        "Moscow Hosts Regional Talks on Afghanistan",
        "Armenia and Azerbaijan Resume Border Talks",
        "Mediators Propose New Round in Brussels",
    ]
    sources = [a.source for a in collected.articles]
    assert sources == [
        "collection",  # scraped text names no outlet: the parent directory
        "Andes Daily",
        "collection",
        "Ceasefire Monitor",
        "Caucasus Wire",
        "Caucasus Wire",
    ]
    assert {a.origin for a in collected.articles} == {str(directory)}
    sudan = collected.articles[0]
    assert sudan.attribution == "With reporting by Aidan Lewis and Nafisa Eltahir"
    assert "cookie" not in sudan.body.lower()
    assert "Related" not in sudan.body


def test_one_bad_file_does_not_stop_the_others(tmp_path: Path) -> None:
    shutil.copy(SEED, tmp_path / "a.txt")
    (tmp_path / "b.txt").write_bytes(b"")
    (tmp_path / "c.json").write_text("{broken")
    (tmp_path / "d.md").write_text("# A Working Article Title\n\n" + STORY)
    collected = read_path(tmp_path)

    assert [a.title for a in collected.articles] == [
        "Russia Plans Afghan Conference To Advance Peace Talks",
        "A Working Article Title",
    ]
    assert [(Path(f.source).name, f.reason.split(":")[0]) for f in collected.failures] == [
        ("b.txt", "file is empty"),
        ("c.json", "invalid JSON"),
    ]


def test_directory_without_supported_files(tmp_path: Path) -> None:
    (tmp_path / ".hidden.md").write_text("# Hidden Article Title\n\n" + STORY)
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    (tmp_path / "sub").mkdir()

    assert reasons(read_path(tmp_path)) == [
        "directory has no supported files (.txt, .md, .html, .htm, .json, .jsonl)"
    ]


def test_symlink_loop_ends(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A Working Article Title\n\n" + STORY)
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    collected = read_path(tmp_path)

    assert [a.title for a in collected.articles] == ["A Working Article Title"]


def test_ids_are_stable_and_unique_across_reads() -> None:
    first = read_path(FILES / "collection")
    second = read_path(FILES / "collection")

    ids = [a.id for a in first.articles]
    assert ids == [a.id for a in second.articles]
    assert len(set(ids)) == len(ids)
    assert [a.content_hash for a in first.articles] == [a.content_hash for a in second.articles]


@pytest.mark.skipif(not CORPUS.exists(), reason="the multihop-rag corpus is not on this machine")
def test_multihop_corpus() -> None:
    first = read_path(CORPUS)
    second = read_path(CORPUS)

    assert first.failures == []
    assert len(first.articles) == 609
    assert all(a.title and a.body and a.source for a in first.articles)
    assert all(a.published_at and a.published_at.endswith("+00:00") for a in first.articles)
    assert all(a.url and a.id == article_id(a.url) for a in first.articles)
    ids = [a.id for a in first.articles]
    assert len(set(ids)) == 609
    assert ids == [a.id for a in second.articles]
    amazon = first.articles[0]
    assert amazon.published_at == "2023-11-27T08:45:59+00:00"
    assert amazon.source == "Mashable"
    assert {a.source for a in first.articles} >= {"TechCrunch", "The Verge", "Sporting News"}
