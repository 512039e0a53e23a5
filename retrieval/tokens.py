"""The words BM25 matches: one tokenizer for the lexical index, queries and answer scoring."""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
_POSSESSIVE = ("'s", "’s")
STOPWORDS = frozenset(
    """
    a about above according after again against ago all also am an and any are article as at
    be because been before being below between both but by can could did do does doing down
    during each few for from further going had happen happened happening has have having he
    her here hers herself him himself his how i if in into is it its itself just latest me
    more most my myself new news no nor not now of off on once only or other our ours out over
    own recent recently report reported said same say says she should since so some such than
    that the their theirs them themselves then there these they this those through to too
    under until up update updates very was we were what when where which while who whom why
    will with would you your yours yourself
    """.split()
)


def tokenize(text: str) -> list[str]:
    """Lowercased words without stopwords; possessive 's dropped ("Russia's" -> "russia")."""
    words = []
    for word in _WORD.findall(text.lower()):
        if word.endswith(_POSSESSIVE):
            word = word[:-2]
        if word not in STOPWORDS:
            words.append(word)
    return words
