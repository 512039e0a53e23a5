"""Stories and timelines: `story` (what a story is and how an article joins one; pure),
`grouping` (grouping an ingest's articles into stories through the store, reading them back),
`timeline` (a topic's events, one dated entry each, with their sources)."""

__all__ = ["grouping", "story", "timeline"]
