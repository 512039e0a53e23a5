import pytest

from ingest.chunking import chunk_text
from retrieval.sentences import split_sentences


def words(texts):
    return [len(t.split()) for t in texts]


def test_sentences_respect_abbreviations_initials_and_paragraphs():
    text = "Mr. Smith met U.S. envoys. George W. Bush spoke.\nNew paragraph here! Next one?"
    got = [text[s.start : s.end] for s in split_sentences(text)]
    assert got == [
        "Mr. Smith met U.S. envoys.",
        "George W. Bush spoke.",
        "New paragraph here!",
        "Next one?",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # Cyrillic capitals start a sentence; guillemets close one; initials do not end one
            "В. Иванов прибыл в Доху. «Мы готовы», — сказал он. Переговоры идут!",
            ["В. Иванов прибыл в Доху.", "«Мы готовы», — сказал он.", "Переговоры идут!"],
        ),
        (  # Arabic question mark ends a sentence; the Arabic comma separates clauses only
            "هل ستستأنف المحادثات؟ قال الوسيط إن الجولة المقبلة في مارس، وأضاف أن الطرفين مستعدان.",
            [
                "هل ستستأنف المحادثات؟",
                "قال الوسيط إن الجولة المقبلة في مارس، وأضاف أن الطرفين مستعدان.",
            ],
        ),
        (  # Persian: a period before a letter of Arabic script, which has no capitals
            "مذاکرات از سر گرفته شد. میانجی گفت دور بعدی در مارس است.",
            ["مذاکرات از سر گرفته شد.", "میانجی گفت دور بعدی در مارس است."],
        ),
        (  # Pashto and Urdu full stop ۔
            "د سولې خبرې بیا پیل شوې۔ منځګړي وویل چې راتلونکې دور به په مارچ کې وي۔",
            ["د سولې خبرې بیا پیل شوې۔", "منځګړي وویل چې راتلونکې دور به په مارچ کې وي۔"],
        ),
        (  # Japanese: 。 with no space after it
            "停戦交渉が再開された。双方は協議する用意があると述べた。",
            ["停戦交渉が再開された。", "双方は協議する用意があると述べた。"],
        ),
    ],
)
def test_sentences_in_other_scripts(text, expected):
    assert [text[s.start : s.end] for s in split_sentences(text)] == expected


def test_quotes_close_a_sentence():
    text = "He said the meeting “aims to give an impulse.” Then he left."
    got = [text[s.start : s.end] for s in split_sentences(text)]
    assert got == ["He said the meeting “aims to give an impulse.”", "Then he left."]


def test_chunks_are_whole_sentences_within_budget_and_cover_the_text():
    sentences = [f"Sentence number {i} has exactly seven words." for i in range(40)]
    text = " ".join(sentences)
    chunks = chunk_text(text, count_tokens=words, budget=30, target=20)
    assert all(c.tokens <= 30 for c in chunks)
    assert all(c.text == text[c.start : c.end] for c in chunks)
    assert all(c.text.endswith("words.") for c in chunks)
    covered = "".join(text[c.start : c.end] for c in chunks).replace(" ", "")
    assert covered == text.replace(" ", "")


def test_a_sentence_longer_than_the_window_is_split_not_truncated():
    text = " ".join(f"w{i}" for i in range(100)) + "."
    chunks = chunk_text(text, count_tokens=words, budget=30, target=30)
    assert len(chunks) == 4
    assert all(c.tokens <= 30 for c in chunks)
    assert " ".join(c.text for c in chunks) == text


def test_a_giant_word_is_cut_into_pieces_that_fit():
    def chars(texts):
        return [len(t) for t in texts]

    text = "x" * 500
    chunks = chunk_text(text, count_tokens=chars, budget=100, target=100)
    assert "".join(c.text for c in chunks) == text
    assert all(len(c.text) <= 100 for c in chunks)


def test_overlap_repeats_trailing_sentences():
    text = " ".join(f"Sentence {i} is here." for i in range(10))
    chunks = chunk_text(text, count_tokens=words, budget=12, target=12, overlap=1)
    assert chunks[1].start < chunks[0].end  # the second starts inside the first
    assert chunks[-1].end == len(text)


@pytest.mark.integration  # the real model's tokenizer
def test_real_tokenizer_never_exceeds_the_model_window(embedder):
    from ingest.article import Article
    from ingest.chunking import ChunkingParams
    from ingest.pipeline import to_passages

    body = ("The envoy said talks would resume. " * 60) + ("x" * 3000) + " End."
    article = Article(id="a", title="A title", body=body, origin="o", source="s")
    passages, texts = to_passages(
        article, embedder.count_tokens, window=embedder.max_tokens, params=ChunkingParams()
    )
    counts = embedder.count_tokens(texts)
    assert max(counts) + 2 <= embedder.max_tokens
    assert all(body[p.start : p.end] == p.text for p in passages)
