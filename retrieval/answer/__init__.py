"""From passages to an answer with citations: `answerer` (`NewsAnswerer`: retrieve, decide,
compose), `extractive` (the default composer: scored sentences quoted with citations), `llm`
(the optional LLM composer, kept only where it cites), `presenting` (what is added around an
answer) with `recency` (the latest state first), `disputes` (facts the sources disagree on) and
`corroboration` (every outlet that carried a cited passage). Never writes to the index."""

__all__ = [
    "answerer",
    "corroboration",
    "disputes",
    "extractive",
    "llm",
    "presenting",
    "recency",
]
