"""Sentence-aware chunks sized to the embedding model's window.

Pure functions over plain data: the token counter is passed in. A chunk is a run of whole
sentences of one article, identified by its character span in the body, so a citation can
quote the exact sentence. Sentences are never cut, except one longer than the window on its own,
which is split between words; nothing is ever truncated silently by the model.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from retrieval.sentences import Span, split_sentences

TokenCounter = Callable[[list[str]], list[int]]
_WORD = re.compile(r"\S+")
# Words counted per tokenizer call when a sentence is split: the fast tokenizer's batch time
# grows faster than its size (40,000 words: 0.62 s in one call, 0.27 s in batches of 512, best
# of 5), and one call over a 20 MB line's 4 million words held gigabytes.
COUNT_BATCH = 512


@dataclass(frozen=True)
class Chunk:
    """One passage cut from an article's body: its place in the body, its text and size."""

    index: int
    start: int
    end: int
    text: str  # body[start:end]
    tokens: int  # word pieces of `text`


def chunk_text(
    text: str, *, count_tokens: TokenCounter, budget: int, target: int, overlap: int = 0
) -> list[Chunk]:
    """Pack whole sentences into chunks of about `target` word pieces, never over `budget`.

    `overlap` repeats that many trailing sentences of a chunk at the start of the next one.
    """
    if budget < 8:
        raise ValueError("the token budget is too small to hold a sentence")
    target = min(target, budget)
    pieces = _fit_pieces(text, split_sentences(text), count_tokens, budget)
    chunks: list[Chunk] = []
    i = 0
    while i < len(pieces):
        j, used = i, 0
        while j < len(pieces) and (j == i or used + pieces[j][1] <= target):
            used += pieces[j][1]
            j += 1
        start, end = pieces[i][0].start, pieces[j - 1][0].end
        chunks.append(Chunk(len(chunks), start, end, text[start:end], used))
        if j >= len(pieces):
            break
        i = max(i + 1, j - overlap)
    return chunks


def _fit_pieces(
    text: str, sentences: list[Span], count_tokens: TokenCounter, budget: int
) -> list[tuple[Span, int]]:
    """Sentences with their token counts; one longer than `budget` is split between words."""
    counts = count_tokens([text[s.start : s.end] for s in sentences])
    pieces: list[tuple[Span, int]] = []
    for span, n in zip(sentences, counts, strict=True):
        if n <= budget:
            pieces.append((span, n))
        else:
            pieces.extend(_split_long(text, span, count_tokens, budget))
    return pieces


def _split_long(
    text: str, span: Span, count_tokens: TokenCounter, budget: int
) -> list[tuple[Span, int]]:
    # Words as plain (start, end) pairs: a 20 MB sentence has millions of them.
    words = [m.span() for m in _WORD.finditer(text, span.start, span.end)]
    counts: list[int] = []
    for i in range(0, len(words), COUNT_BATCH):  # one tokenizer call per batch: linear time
        counts += count_tokens([text[a:b] for a, b in words[i : i + COUNT_BATCH]])
    words, counts = _split_huge_words(words, counts, budget)
    pieces: list[tuple[Span, int]] = []
    start, used = None, 0
    last_end = 0
    for (word_start, word_end), n in zip(words, counts, strict=True):
        if start is not None and used + n > budget:
            pieces.append((Span(start, last_end), used))
            start, used = None, 0
        if start is None:
            start = word_start
        used += n
        last_end = word_end
    if start is not None:
        pieces.append((Span(start, last_end), used))
    return pieces


def _split_huge_words(
    words: list[tuple[int, int]], counts: list[int], budget: int
) -> tuple[list[tuple[int, int]], list[int]]:
    """Cut a "word" longer than the window (a URL, a hash) into pieces that fit, by characters."""
    if all(n <= budget for n in counts):
        return words, counts
    out_words, out_counts = [], []
    for (start, end), n in zip(words, counts, strict=True):
        if n <= budget:
            out_words.append((start, end))
            out_counts.append(n)
            continue
        parts = -(-n * 2 // budget)  # twice as many as needed: word pieces are uneven
        step = max(1, -(-(end - start) // parts))
        for a in range(start, end, step):
            out_words.append((a, min(a + step, end)))
            out_counts.append(-(-n // parts))
    return out_words, out_counts


# Bump when chunking changes in a way that makes old vectors incomparable: a new scheme gets a
# new collection family (retrieval.index.chroma.index_name), never a mix of old and new passages.
CHUNKING_SCHEME = 1


@dataclass(frozen=True)
class ChunkingParams:
    """How articles become passages (NEWSBOT_CHUNK_TOKENS, NEWSBOT_CHUNK_OVERLAP)."""

    target_tokens: int = 128
    overlap_sentences: int = 0
    title_in_embedding: bool = True
