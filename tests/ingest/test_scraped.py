"""Pure parsing of scraped text, HTML, feed summaries and dates: no I/O beyond fixtures."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from ingest.files import read_path
from ingest.scraped import (
    ContentError,
    extract_html,
    html_to_text,
    is_attribution,
    is_chrome,
    looks_like_title,
    normalize_date,
    parse_scraped,
)

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "samples" / "000_fea4cf2722b2191c.txt"
WEB = REPO / "tests" / "fixtures" / "web"

BODY = [
    "The first paragraph of the story says what happened, where it happened and who said so.",
    "A second paragraph adds the context that readers need to understand the first one.",
    "A third paragraph quotes an official who spoke on condition of anonymity to reporters.",
]


def page(*lines: str) -> str:
    return "\n\n".join(lines) + "\n"


def test_seed_page_gives_headline_body_and_attribution() -> None:
    parsed = parse_scraped(SEED.read_text(encoding="utf-8"))

    assert parsed.title == "Russia Plans Afghan Conference To Advance Peace Talks"
    assert parsed.body.startswith("Russia's presidential envoy to Afghanistan, Zamir Kabulov,")
    assert parsed.attribution == "Based on reporting by AFP, AP, dpa, Interfax, Reuters and TASS"
    for chrome in ("Accessibility links", "Breaking News", "Based on reporting"):
        assert chrome not in parsed.body
    assert parsed.body.endswith("Washington believes progress is possible.")
    assert "\n\n" in parsed.body
    assert "\n\n\n" not in parsed.body


def test_chrome_is_dropped_near_top_and_bottom_only() -> None:
    middle = [f"Paragraph number {i} of a long article about the negotiations." for i in range(30)]
    text = page(
        "Skip to main content",
        "SHARE",
        "Envoys Agree on a Timetable for Talks",
        "Print",
        *middle[:15],
        "Share",  # deep inside the article: not near either end, so kept
        *middle[15:],
        "Related articles:",
        "Advertisement",
    )
    parsed = parse_scraped(text)

    assert parsed.title == "Envoys Agree on a Timetable for Talks"
    paragraphs = parsed.body.split("\n\n")
    assert paragraphs[0] == middle[0]
    assert paragraphs[-1] == middle[-1]
    assert paragraphs.count("Share") == 1
    assert "Print" not in paragraphs


def test_cookie_banner_and_section_label_before_the_headline_are_dropped() -> None:
    text = page(
        "We use cookies to give you the best experience. By continuing you agree to our policy.",
        "Accept all cookies",
        "World",
        "Sudan Ceasefire Extended by Seventy-Two Hours",
        *BODY,
        "© 2023 Example News. All rights reserved.",
    )
    parsed = parse_scraped(text)

    assert parsed.title == "Sudan Ceasefire Extended by Seventy-Two Hours"
    assert parsed.body == "\n\n".join(BODY)
    assert parsed.attribution is None


@pytest.mark.parametrize(
    "credit",
    [
        "Based on reporting by AFP, AP, dpa, Interfax, Reuters and TASS",
        "With reporting by Aidan Lewis in Cairo",
        "Additional reporting by Nafisa Eltahir",
        "Reporting by Jonathan Landay; Editing by Mary Milliken",
        "Compiled by RFE/RL's Central Newsroom",
    ],
)
def test_closing_credit_lines_become_attribution(credit: str) -> None:
    parsed = parse_scraped(page("A Headline About the Talks", *BODY, credit))

    assert parsed.attribution == credit
    assert credit not in parsed.body


def test_two_closing_credit_lines_are_joined() -> None:
    parsed = parse_scraped(
        page("A Headline About the Talks", *BODY, "Reporting by A. Writer", "With reporting by B")
    )

    assert parsed.attribution == "Reporting by A. Writer With reporting by B"


@pytest.mark.parametrize(
    "sentence",
    [
        "Share prices in Kabul fell sharply after the announcement of the conference.",
        "Related talks in Doha are expected to begin next week, officials said.",
        "The EU's cookie consent rules were not discussed at the summit on Tuesday.",
        "Copyright lawyers for the broadcaster declined to comment on the case.",
        "Print media were barred from the venue, according to the organisers.",
    ],
)
def test_real_sentences_are_never_chrome(sentence: str) -> None:
    assert not is_chrome(sentence)


@pytest.mark.parametrize(
    "line",
    [
        "Accessibility links",
        "BREAKING NEWS",
        "Share",
        "  print ",
        "Advertisement",
        "Related:",
        "Skip to main content",
        "Accept all cookies",
        "Image source, Getty Images",
        "© 2021 RFE/RL",
    ],
)
def test_chrome_lines_are_recognised(line: str) -> None:
    assert is_chrome(line)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Russia Plans Afghan Conference To Advance Peace Talks", True),
        ("Will the Ceasefire Hold?", True),
        ("Afghanistan", False),  # a section label, not a headline
        ("The talks resumed on Monday.", False),
        (" ".join(["word"] * 30), False),
    ],
)
def test_looks_like_title(line: str, expected: bool) -> None:
    assert looks_like_title(line) is expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("ジュネーブで停戦交渉が再開された", True),  # Japanese: no spaces between words
        ("双方の代表団は火曜日、捕虜交換と人道回廊について協議する用意があると述べた。", False),
        ("استئناف محادثات السلام في الدوحة", True),
        ("Переговоры о прекращении огня возобновились в Женеве", True),
        ("ジュネーブ" * 12, False),  # as long as a paragraph
    ],
)
def test_titles_in_other_scripts(line: str, expected: bool) -> None:
    assert looks_like_title(line) is expected


def test_a_plain_text_article_in_japanese_is_read(tmp_path: Path) -> None:
    """Shift_JIS on disk, decoded right: a headline without spaces is still a headline."""
    title = "ジュネーブで停戦交渉が再開された"
    body = (
        "双方の代表団は火曜日、捕虜交換と人道回廊について協議する用意があると述べた。"
        "国連の仲介者は「信頼の最初の兆しが見える」と語り、次の協議は三月に行われると付け加えた。"
    )
    path = tmp_path / "story.txt"
    path.write_bytes(f"{title}\n\n{body}\n".encode("shift_jis"))
    collected = read_path(path)
    assert collected.failures == []
    (article,) = collected.articles
    assert (article.title, article.body) == (title, body)


def test_attribution_needs_the_opening_words() -> None:
    assert is_attribution("Based on reporting by Reuters")
    assert not is_attribution("Officials said the plan was based on reporting by local media.")


def test_text_starting_with_a_paragraph_has_no_headline() -> None:
    text = page(
        "The talks resumed on Monday after a week-long pause, with both delegations saying they "
        "were ready to discuss the sequencing of a ceasefire and prisoners held on each side.",
        *BODY,
    )
    with pytest.raises(ContentError, match="no headline"):
        parse_scraped(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no text left"),
        (page("Share", "Print", "Advertisement"), "no text left"),
        (page("A Headline Without Any Story"), "no article text"),
        (page("A Headline Without Any Story", "Based on reporting by AP"), "no article text"),
    ],
)
def test_pages_without_an_article_are_refused(text: str, reason: str) -> None:
    with pytest.raises(ContentError, match=reason):
        parse_scraped(text)


def test_hard_wrapped_whitespace_is_normalised() -> None:
    parsed = parse_scraped("  A  Headline   About\tTalks \r\n\r\n  First   line. \r\n")

    assert parsed.title == "A Headline About Talks"
    assert parsed.body == "First line."


# --- HTML ----


def test_extract_html_reads_text_and_metadata() -> None:
    parsed = extract_html((WEB / "doha.html").read_text(encoding="utf-8"))

    assert parsed.title == "Envoys Meet in Doha as Ceasefire Talks Resume"
    assert parsed.body.startswith("Negotiators from both delegations returned to the table")
    assert parsed.body.count("\n\n") == 3  # four paragraphs, headline and byline removed
    assert parsed.author == "Leila Haddad"
    assert parsed.sitename == "Peace Wire"
    assert parsed.date == "2021-03-10T14:30:00+03:00"
    assert parsed.url == "https://peacewire.example/2021/03/doha-talks"
    assert "Home" not in parsed.body
    assert "All rights reserved" not in parsed.body


def test_extract_html_date_from_json_ld() -> None:
    parsed = extract_html((WEB / "moscow.html").read_bytes())

    assert parsed.date == "2021-03-18T09:15:00+00:00"
    assert parsed.author == "Anna Petrova"


def test_extract_html_never_invents_a_date_or_site_name() -> None:
    parsed = extract_html((WEB / "geneva.html").read_text(), url="http://127.0.0.1:8000/g.html")

    assert parsed.date is None
    assert parsed.sitename is None  # not the host name trafilatura falls back to
    assert parsed.attribution == "With reporting by Jonas Weber in Geneva"
    assert "cookies" not in parsed.body


def test_extract_html_without_article_text_is_refused() -> None:
    with pytest.raises(ContentError, match="no article text found"):
        extract_html((WEB / "no_article.html").read_text())


def test_html_to_text_keeps_paragraphs() -> None:
    assert html_to_text("<p>One <b>two</b></p><p>Three</p>") == "One two\n\nThree"
    assert html_to_text("Plain  summary\n\nsecond") == "Plain summary\n\nsecond"
    assert html_to_text("<ul><li>a</li><li>b</li></ul>") == "a\n\nb"


# --- dates ----


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-11-27 08:45:59.000000000Z", "2023-11-27T08:45:59+00:00"),
        ("2021-03-10T14:30:00+0300", "2021-03-10T14:30:00+03:00"),
        ("2021-03-10T14:30:00", "2021-03-10T14:30:00+00:00"),
        ("2021-03-10", "2021-03-10T00:00:00+00:00"),
        ("Tue, 09 Mar 2021 10:00:00 GMT", "2021-03-09T10:00:00+00:00"),
        ("Tue, 06 Aug 2019 10:00:00 +0200", "2019-08-06T10:00:00+02:00"),
        (
            datetime(2021, 3, 9, 10, 0, tzinfo=timezone(timedelta(hours=4, minutes=30))),
            "2021-03-09T10:00:00+04:30",
        ),
        (datetime(2021, 3, 9, 10, 0), "2021-03-09T10:00:00+00:00"),
        (date(2021, 3, 9), "2021-03-09T00:00:00+00:00"),
        (time.struct_time((2021, 3, 9, 10, 0, 0, 1, 68, 0)), "2021-03-09T10:00:00+00:00"),
        (1615284000, "2021-03-09T10:00:00+00:00"),
        ("", None),
        ("   ", None),
        ("yesterday", None),
        ("2021-13-45", None),
        (None, None),
        (True, None),
        (["2021-03-09"], None),
    ],
)
def test_normalize_date(value: object, expected: str | None) -> None:
    assert normalize_date(value) == expected


def test_normalized_dates_are_readable_back() -> None:
    value = normalize_date("2023-11-27 08:45:59.000000000Z")
    assert value is not None
    assert datetime.fromisoformat(value) == datetime(2023, 11, 27, 8, 45, 59, tzinfo=UTC)
