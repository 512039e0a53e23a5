"""The formatter: escaping, source lists, the quotes view, and splitting below the limit."""

from __future__ import annotations

import pytest

from bot.telegram import formatting
from bot.telegram.formatting import render_answer, sources_message, split_html, tg_len
from devkit import telegram_html
from ingest.article import SourceFailure
from ingest.pipeline import IngestReport
from retrieval.types import Answer, Citation

NASTY = 'Talks <b>"end"</b> & R&D <script>'


def citation(n=1, **kw) -> Citation:
    values = dict(
        n=n,
        title=f"Title {n} {NASTY}",
        source="Outlet & Co",
        published_at="2021-03-09T10:00:00Z",
        url=f"https://example.org/a?x={n}&y=<2>",
        quote=f"Quoted sentence {n} {NASTY}.",
        article_id=f"a{n}",
    )
    values.update(kw)
    return Citation(**values)


def valid(html: str) -> str:
    """Telegram would accept it: it parses and fits."""
    text = telegram_html.parse(html)
    assert 0 < telegram_html.utf16_len(text.strip()) <= formatting.MAX_LEN
    assert tg_len(html) <= formatting.MAX_LEN
    return text


def test_answer_escapes_every_value_and_lists_sources():
    answer = Answer("q", f"It ended [1]. {NASTY} [2].", True, (citation(1), citation(2, url=None)))
    rendered = render_answer(answer)
    assert rendered.answer_in_last
    assert rendered.has_sources
    [html] = rendered.messages
    text = valid(html)
    assert "&lt;script&gt;" in html
    assert "<script>" not in html
    assert '<a href="https://example.org/a?x=1&amp;y=&lt;2&gt;">Title 1' in html
    assert "[2] Title 2 Talks" in text  # no URL: title not linked
    assert "Outlet &amp; Co, 2021-03-09" in html
    assert "Quoted sentence" not in text  # quotes only in the revealed view


def test_links_only_for_http_urls():
    html = formatting.citation_line(citation(url="javascript:alert(1)"))
    assert "<a " not in html


def test_declines_have_no_sources():
    rendered = render_answer(Answer("q", "I cannot answer that from the articles I have.", False))
    assert rendered.messages == ["I cannot answer that from the articles I have."]
    assert not rendered.has_sources


def test_a_decline_saying_what_the_news_reports_lists_its_source():
    text = "The news I have doesn't say how many died; it reports: Thousands fled. [1]"
    rendered = render_answer(Answer("q", text, False, (citation(1),)))
    assert rendered.has_sources
    [html] = rendered.messages
    assert "[1] Title 1" in valid(html)


def test_quotes_view_reveals_quotes_in_blockquotes():
    answer = Answer("q", "It ended [1].", True, (citation(1), citation(2)))
    html = sources_message(answer, answer_in_last=True, quotes=True)
    text = valid(html)
    assert html.count("<blockquote>") == 2
    assert text.startswith("It ended [1].")
    assert 'Quoted sentence 2 Talks <b>"end"</b> & R&D <script>.' in text


def test_long_quotes_are_shown_whole_but_folded():
    sentences = " ".join(f"Sentence {i} of the quote says what the talks agreed." for i in range(6))
    answer = Answer("q", "It ended [1].", True, (citation(1, quote=sentences), citation(2)))
    html = sources_message(answer, answer_in_last=True, quotes=True)
    text = valid(html)
    assert html.count("<blockquote expandable>") == 1  # the long one folds, the short one not
    assert html.count("<blockquote>") == 1
    assert sentences in text  # six sentences, nothing cut


def test_quotes_view_always_fits_one_message():
    many = tuple(citation(i, quote="word " * 400) for i in range(1, 30))
    answer = Answer("q", "Long answer. " * 250, True, many)
    html = sources_message(answer, answer_in_last=True, quotes=True)
    valid(html)


def test_long_answer_is_split_with_sources_last():
    answer = Answer("q", ("A sentence & <more> [1]. " * 300 + "\n") * 3, True, (citation(),))
    rendered = render_answer(answer)
    assert len(rendered.messages) > 2
    assert not rendered.answer_in_last
    for html in rendered.messages:
        valid(html)
    assert rendered.messages[-1].startswith("<b>Sources</b>")
    joined = " ".join(telegram_html.parse(m) for m in rendered.messages[:-1])
    assert joined.split() == telegram_html.parse(formatting.answer_body(answer)).split()


@pytest.mark.parametrize("limit", [64, 100, 333])
def test_split_never_breaks_tags_or_entities(limit):
    html = (
        "<b>Bold &amp; long "
        + "wörd 😀 " * 30
        + "</b>\n"
        + '<a href="https://e.org/?a=1&amp;b=2">link text '
        + "x&lt;y " * 20
        + "</a>\n"
        + "<blockquote>"
        + "quote &quot;q&quot; " * 25
        + "</blockquote>"
    )
    parts = split_html(html, limit)
    assert len(parts) > 1
    for part in parts:
        assert tg_len(part) <= limit
        telegram_html.parse(part)  # balanced, entities whole
    assert " ".join(telegram_html.parse(p) for p in parts).split() == (
        telegram_html.parse(html).split()
    )


def test_split_prefers_line_breaks():
    html = "\n".join(f"line {i} " + "word " * 10 for i in range(20))
    parts = split_html(html, 200)
    assert all(p.startswith("line ") for p in parts)


def test_split_cuts_words_without_spaces():
    parts = split_html("x" * 1000, 100)
    assert all(tg_len(p) <= 100 for p in parts)
    assert "".join(parts) == "x" * 1000


def test_inline_message_is_one_message_even_for_long_answers():
    answer = Answer("q", "Long answer [1]. " * 600, True, (citation(),))
    valid(formatting.inline_message(answer))


def test_status_and_start_texts():
    from tests.bot.conftest import FakeService

    status = FakeService.status(None)
    start = formatting.start_html(status, bot_username="news_bot")
    assert "<b>1</b> article from RFE/RL (1), published 2021-03-10" in start
    valid(start)
    html = formatting.status_html(status, uptime_seconds=3725, ingest_running=True)
    text = valid(html)
    assert "1 articles, 4 passages" in text
    assert "1h 2m" in text
    assert "running now" in text
    assert "added 1, updated 0, unchanged 0, removed 0, failed 0" in text
    empty = formatting.start_html(None, bot_username="news_bot")
    assert "/reingest" in empty


def test_ingest_summary_escapes_failures():
    report = IngestReport(
        added=1, failed=[SourceFailure("<x>", "a & b")], notes=["n<1>"], seconds=1.25
    )
    html = formatting.ingest_summary_html("Re-ingest", report)
    text = valid(html)
    assert "done in 1.2 s" in text or "done in 1.3 s" in text
    assert "failed: <x>: a & b" in text
    assert "n<1>" in text


def test_plain_text_fallback():
    assert formatting.plain_text("<b>a &amp; b</b>") == "a & b"
