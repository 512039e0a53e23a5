"""From passages to an answer with citations: `answerer` (`NewsAnswerer`: retrieve, decide,
compose), `extractive` (the default composer: scored sentences quoted with citations), `llm`
(the optional LLM composer, kept only where it cites), `asking` (what a question asks: the
kind of answer and its focus, and whether a sentence answers it; English words in
`answer_words`), `leading` (the sentence an answer leads with, or what a decline says),
`presenting` (what is added around an
answer) with `recency` (the latest state first), `disputes` (facts the sources disagree on) and
`corroboration` (every outlet that carried a cited passage). Never writes to the index."""

__all__ = [
    "answer_words",
    "answerer",
    "asking",
    "corroboration",
    "disputes",
    "extractive",
    "leading",
    "llm",
    "presenting",
    "recency",
]
