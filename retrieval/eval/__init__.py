"""Scoring against labels, for `newsbot eval` and bench/ (never imported while serving):
`scoring` (retrieval and answers on MultiHop-RAG), `story_scoring` (stories and timelines)."""

__all__ = ["scoring", "story_scoring"]
