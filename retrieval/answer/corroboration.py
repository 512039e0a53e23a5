"""Corroboration: a cited passage credits every outlet that carried the same text (pure).

Retrieval folds near-duplicate passages from other outlets into one hit (`SearchHit.also_in`);
here each citation gets those copies as `Carrier`s (outlet, headline, link, date), one per
outlet, the citation's own outlet left out, oldest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from retrieval.types import Answer, Carrier, Citation, SearchHit, parse_published


def _order(carrier: Carrier) -> tuple:
    try:
        when = parse_published(carrier.published_at).timestamp() if carrier.published_at else 0.0
    except ValueError:
        when = 0.0
    return (carrier.published_at is None, when, carrier.source)


def carriers(citation: Citation, hits: Sequence[SearchHit]) -> tuple[Carrier, ...]:
    """The other outlets' copies of the passages of the cited article, one per outlet."""
    by_outlet: dict[str, Carrier] = {}
    for hit in hits:
        if hit.passage.article_id != citation.article_id:
            continue
        for copy in hit.also_in:
            if copy.article_id == citation.article_id or copy.source == citation.source:
                continue
            carrier = Carrier.of(copy)
            known = by_outlet.get(copy.source)
            if known is None or _order(carrier) < _order(known):
                by_outlet[copy.source] = carrier
    return tuple(sorted(by_outlet.values(), key=_order))


def corroborate(answer: Answer, hits: Sequence[SearchHit]) -> Answer:
    """Every citation credited with the outlets that carried the same passage."""
    cited = []
    for citation in answer.citations:
        found = carriers(citation, hits)
        cited.append(replace(citation, carriers=found, also_in=tuple(c.source for c in found)))
    return replace(answer, citations=tuple(cited))
