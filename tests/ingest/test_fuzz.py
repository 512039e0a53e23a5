"""Generated input through the file readers, the decoder, the sentence splitter and the
chunker (hypothesis, a bounded number of examples): nothing raises but the reported kinds,
and every span and chunk stays inside the text."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.chunking import chunk_text
from ingest.files import SUPPORTED_SUFFIXES, decode_bytes, read_path
from ingest.scraped import ContentError
from retrieval.sentences import split_sentences

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# text that looks like news as well as junk: words, sentence marks, quotes, newlines, markup
TOKENS = [*"abcXYZ019 .!?…\"'“”‘’()[]\n\t:-#*{}<>/=,—", "Mr.", "U.S.", "<p>", "<div>", "# "]
TEXTISH = st.lists(st.sampled_from(TOKENS), max_size=200).map("".join)
ANY_TEXT = st.one_of(TEXTISH, st.text(max_size=300))
BLOBS = st.one_of(
    st.binary(max_size=2000),
    ANY_TEXT.map(lambda t: t.encode("utf-8")),
    st.tuples(ANY_TEXT, st.sampled_from(["cp1251", "shift_jis", "utf-16", "cp1252"])).map(
        lambda p: p[0].encode(p[1], errors="ignore")
    ),
)


def words(texts: list[str]) -> list[int]:
    return [len(t.split()) for t in texts]


def chars(texts: list[str]) -> list[int]:
    return [len(t) for t in texts]


@FUZZ
@given(data=BLOBS, suffix=st.sampled_from(SUPPORTED_SUFFIXES))
def test_readers_never_raise(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(data)
        collected = read_path(path)
    assert collected.articles or collected.failures
    assert all(f.reason and "unexpected error" not in f.reason for f in collected.failures)
    for article in collected.articles:
        assert article.title
        assert article.body


@FUZZ
@given(data=BLOBS, html=st.booleans(), declared=st.sampled_from([None, "utf-8", "koi8-r", "x"]))
def test_decoder_gives_text_or_a_reason(data: bytes, html: bool, declared: str | None) -> None:
    notes: list[str] = []
    try:
        text = decode_bytes(data, notes, declared=declared, html=html)
    except ContentError as error:
        reason = str(error)
    else:
        reason = None
        assert isinstance(text, str)
    assert reason is None or reason.strip()


@FUZZ
@given(text=ANY_TEXT)
def test_sentences_are_ordered_trimmed_spans(text: str) -> None:
    spans = split_sentences(text)
    last = 0
    for span in spans:
        assert last <= span.start < span.end <= len(text)
        piece = text[span.start : span.end]
        assert piece == piece.strip()
        last = span.end


@FUZZ
@given(
    text=ANY_TEXT,
    budget=st.integers(8, 64),
    target=st.integers(1, 64),
    overlap=st.integers(0, 3),
    counter=st.sampled_from([words, chars]),
)
def test_chunks_fit_the_budget_and_cover_the_text(text, budget, target, overlap, counter) -> None:
    chunks = chunk_text(text, count_tokens=counter, budget=budget, target=target, overlap=overlap)
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end]
        assert chunk.tokens <= budget
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    assert all(i in covered for i, c in enumerate(text) if not c.isspace())
