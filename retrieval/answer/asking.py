"""What a question asks, and whether a sentence answers it (pure; English word lists in
`retrieval.answer_words`).

`parse_asked` reads the kind of answer a question wants (a person or organisation, a place, a
date, a number, a reason, yes/no, a description) and its focus: the words that say what about
the subject is asked ("when do the talks *start*", "who will *chair* it", "how many *died*").

A sentence answers a question of a definite kind (`Asked.definite`) only when it holds an
answer of that kind tied to the focus (`answers`): a date near a focus word for "when", a number
counting the asked-for thing for "how many", a name the question does not already hold for
"who", a place for "where", a cause for "why"; and when the focus words are all there (for a
short question; most of them for a longer one), in the sentence, the one before it, or the
headline. Anything else is not an answer, however close its words.

`is_statement` keeps headings, subheadings that are questions, captions, embedded posts,
bylines and fragments from ever being given as answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import lru_cache

from retrieval.answer import answer_words as w
from retrieval.tokens import STOPWORDS

_WORD = re.compile(r"[\w'’]+(?:[.,-](?=\w)[\w'’]+)*", re.UNICODE)  # "9,000", "U.S."
_LEADING = frozenset("and so but then also ok okay well".split())
_PARTICLES = frozenset("out up off down back away over".split())
DATE_WINDOW = 12  # words between a date or number and the focus word it is about
NAME_WINDOW = 8  # words between a name and the word saying what is asked of it
COUNT_WINDOW = 3  # words between a number and the noun it counts ("34 trained observers")
COUNT_AFTER = 5  # or after it ("a delegation of six", "startups in the country is 9,000")
SHORT_FOCUS = 4  # a question with at most this many focus words needs all of them
LONG_SHARE = 0.75  # a longer one needs this share of them
_DEFINITE = frozenset({w.PERSON, w.PLACE, w.DATE, w.NUMBER, w.REASON})
_SUBJECTS = frozenset("the a an it they he she we you this that these those its their".split())
_PARTICIPLES = frozenset(
    """held built made done given taken seen known shown begun chosen led set put paid won
    lost sent kept brought told found left met cut hit spent sold struck freed""".split()
)


def words(text: str) -> list[str]:
    """The words of `text`, as written (case kept), without punctuation."""
    return _WORD.findall(text)


def _base(word: str) -> str:
    """A crude stem for matching ("observers" and "observer", "suggests" and "suggest")."""
    word = word.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) >= len(suffix) + 3 and word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word  # "take", "taking"


def same_word(asked: str, found: str) -> bool:
    """Whether `found` (a word of a sentence) says `asked` (a word of the question)."""
    a, f = asked.lower(), found.lower()
    if a == f or _base(a) == _base(f):
        return True
    return f in w.SYNONYMS.get(a, frozenset())


@dataclass(frozen=True)
class Asked:
    """What a question asks: the kind of answer, and what about its subject (the focus)."""

    kind: str
    focus: tuple[str, ...]  # its words that say what is asked, lower case, in order
    counted: str | None = None  # "how many observers …": the noun counted
    qualifiers: tuple[str, ...] = ()  # ordinals and numbers any answer must hold ("second")
    phrase: str = ""  # the question as a clause: "how many died", "when the talks start"
    weights: tuple[float, ...] = ()  # each focus word's rarity in the index (`weighted`)
    names: frozenset[str] = frozenset()  # focus words the news writes as names (`named`)

    @property
    def definite(self) -> bool:
        """Whether only a sentence holding an answer of the kind answers it: a name, place,
        date, number or reason, asked by a question short enough to say what it wants
        (a long question restates its facts, and its words alone decide)."""
        return self.kind in _DEFINITE and 0 < len(self.focus) <= 2 * SHORT_FOCUS

    @property
    def checked(self) -> bool:
        """Whether only a sentence holding its focus answers it: a question of a definite
        kind, or a short one asking for a description or a yes or no ("What did Blinken
        propose?" is not answered by a sentence about Blinken that proposes nothing)."""
        return self.definite or (
            self.kind in {w.DESCRIPTION, w.YES_NO} and 0 < len(self.focus) <= 2 * SHORT_FOCUS
        )


def weighted(asked: Asked, rarity: Callable[[str], float]) -> Asked:
    """`asked` with each focus word weighted by `rarity` (the index's idf): a longer question
    may leave out a common word of its focus, never a rare one."""
    return replace(asked, weights=tuple(rarity(word) for word in asked.focus))


def named(asked: Asked, texts: Iterable[str]) -> Asked:
    """`asked` knowing which focus words are names: those `texts` (the retrieved passages)
    write capitalised and never in lower case. A name is the subject the sentence may leave to
    its passage ("He appeared in a Seattle court" in an article on Zhao); the other focus
    words say what is asked, and the sentence must hold them."""
    upper: set[str] = set()
    lower: set[str] = set()
    for text in texts:
        for word in words(text):
            (upper if word[:1].isupper() else lower).add(_base(word))
    names = frozenset(f for f in asked.focus if _base(f) in upper and _base(f) not in lower)
    return replace(asked, names=names)


def parse_asked(question: str) -> Asked:
    """The kind and focus of `question` (see the module docstring)."""
    tokens = [t for word in words(question) for t in _expand(word.lower())]
    while tokens and tokens[0] in _LEADING:
        tokens = tokens[1:]
    kind, start, end = _cue(tokens)
    if kind == w.PERSON and end < len(tokens) and tokens[end - 1] == "who":
        rest = tokens[end:]
        if rest and rest[0] in {"is", "was", "are", "were"}:
            tail = rest[1:]
            if tail and tail[0] not in {"the", "a", "an"} and not _verb_like(tail[0]):
                kind = w.DESCRIPTION  # "who is Ned Price?" asks who he is, not for a name
    counted = None
    if kind == w.NUMBER and tokens[end - 1 : end] in (["many"], ["much"]):
        run = _noun_run(tokens[end:])[:2]
        plural = [t for t in run if t.endswith("s") and not t.endswith("ss")]
        noun = plural[0] if plural else (run[-1] if run else "")  # "displaced families"
        if noun and noun not in w.GENERIC_COUNTED and not _verb_like(noun):
            counted = noun
    after = tokens[end:] if start >= 0 else tokens
    implied = w.EVENT_VERBS if kind in {w.DATE, w.PLACE} else frozenset()
    focus = tuple(
        t
        for t in after
        if t not in w.QUESTION_FILLER
        and t not in _PARTICLES
        and t not in w.GENERIC_COUNTED
        and t not in implied  # "when is it held": the date says it
    )
    asks_which = start >= 0 and tokens[start] in {"which", "what"}
    if asks_which and focus and w.KIND_NOUNS.get(focus[0]) == kind:
        focus = focus[1:]  # "which groups were invited": "groups" says the kind, not the focus
    qualifiers = tuple(
        t for t in focus if (t in w.ORDINALS and t not in {"last", "next", "final"}) or t.isdigit()
    )
    return Asked(kind, focus, counted, qualifiers, _clause(tokens, start, end))


def _expand(word: str) -> list[str]:
    """A contraction as its words: "who's" → who is, "what're" → what are."""
    head, mark, tail = word.replace("’", "'").partition("'")
    if mark and tail in w.CONTRACTIONS and head in w.CONTRACTED:
        return [head, w.CONTRACTIONS[tail]]
    return [word]


def _verb_like(word: str) -> bool:
    return (len(word) > 3 and word.endswith(("ing", "ed"))) or word in _PARTICIPLES


def _noun_run(tokens: list[str]) -> list[str]:
    """The words up to the first filler word: "displaced families have …" → both."""
    run = []
    for token in tokens:
        if token in w.QUESTION_FILLER:
            break
        run.append(token)
    return run


def _cue(tokens: list[str]) -> tuple[str, int, int]:
    """The kind the question's cue asks for, and where the cue starts and ends in `tokens`
    (-1, 0 when it has none: a yes/no question or a request)."""
    if tokens and tokens[0] in w.AUXILIARIES:
        return w.YES_NO, -1, 0
    cues = sorted(w.QUESTION_WORDS, key=lambda c: -len(c.split()))
    for i in range(len(tokens)):
        for cue in cues:
            parts = cue.split()
            if tokens[i : i + len(parts)] == parts:
                end = i + len(parts)
                kind = w.QUESTION_WORDS[cue]
                if cue in {"which", "what"}:
                    return _kind_noun(tokens, end, kind), i, end
                return kind, i, end
    return w.DESCRIPTION, -1, 0


def _kind_noun(tokens: list[str], end: int, kind: str) -> str:
    """The kind a noun after "what"/"which" asks for: "which city", "what is the death toll",
    "what's the name of …"; `kind` when none says."""
    at = end
    while at < len(tokens) and tokens[at] in {"is", "was", "are", "were", "the", "a", "an"}:
        at += 1
    for noun in reversed(_noun_run(tokens[at:])[:2]):
        if noun in w.KIND_NOUNS:
            return w.KIND_NOUNS[noun]
    return kind


def _clause(tokens: list[str], start: int, end: int) -> str:
    """The question as a clause for "The news I have doesn't say …": "when do the talks
    start" → "when the talks start", "when will it be held" → "when it will be held"."""
    if start < 0:
        return "whether " + " ".join(tokens[1:]) if tokens else ""
    head, rest = tokens[start:end], tokens[end:]
    counting = head[-1:] in (["many"], ["much"])
    if counting:
        run = [t for t in _noun_run(rest) if t not in w.AUXILIARIES]
        head, rest = head + run, rest[len(run) :]
    subject_asked = head[:1] in (["who"], ["what"], ["which"])
    if (
        not rest
        or rest[0] not in w.AUXILIARIES
        or (subject_asked and rest[0] not in {"do", "does", "did"})
    ):
        return " ".join(head + rest)
    aux, body = rest[0], rest[1:]
    if counting and len(head) > 2 and body[:1] and body[0] not in _SUBJECTS:
        return " ".join(head + rest)  # "how many observers will monitor …": no inversion
    if aux == "do":
        return " ".join(head + body)
    if aux in {"does", "did"}:  # the verb would change its form: the question as asked
        return "“" + " ".join(tokens[start:]) + "?”"
    at = next((i for i, t in enumerate(body) if t in {"be", "take"} or _verb_like(t)), None)
    if at is None:
        at = len(body) if aux in {"is", "are", "was", "were", "has", "have", "had"} else -1
        at = at if at >= 0 else max(len(body) - 1, 0)
    return " ".join([*head, *body[:at], aux, *body[at:]])


# --- sentences ---------------------------------------------------------------------------------


def is_statement(sentence: str) -> bool:
    """Whether `sentence` can be given as an answer: not a heading, a subheading asking a
    question, a caption or credit, an embedded post, a byline or a fragment."""
    text = sentence.strip()
    found = words(text)
    if len(found) < w.MIN_STATEMENT_WORDS or text.endswith("?"):
        return False
    if w.NOT_STATEMENTS.search(text):
        return False
    first = text.lstrip("\"'“‘(")[:1]
    if first.islower():
        return False  # a fragment: the rest of a sentence cut elsewhere
    if text[-1] not in ".!…\"'”’)":
        capitals = sum(1 for word in found if word[:1].isupper())
        if capitals >= 0.6 * len(found) or len(found) < 8:
            return False  # a headline or a subheading
    return True


def answers(
    asked: Asked, sentence: str, context: str = "", question: str = "", passage: str = ""
) -> bool:
    """Whether `sentence` holds an answer of the kind `asked` wants, tied to its focus;
    `context` (the sentence before it) may hold the focus words the sentence leaves out, and
    `passage` (its passage and headline) the names (`Asked.names`). For a question asking for
    a description or a yes or no, the focus is all it needs; for a long question (not
    `Asked.checked`), anything answers."""
    if not asked.checked:
        return True
    tokens = words(sentence)
    around = _bases(passage) if asked.names else frozenset()
    if not asked.definite:  # the focus is all it asks for: in the sentence itself
        return _holds_focus(asked, tokens, [], around)
    if not _holds_focus(asked, tokens, words(context), around):
        return False
    asked_words = {t.lower() for t in words(question)} | set(asked.focus)
    return _holds_kind(asked, sentence, tokens, asked_words)


def focus_share(asked: Asked, sentence: str, context: str = "") -> float:
    """The share of the focus words `sentence` (or its `context`) holds."""
    if not asked.focus:
        return 0.0
    found = [t for t in words(sentence) + words(context)]
    held = sum(1 for f in asked.focus if any(same_word(f, t) for t in found))
    return held / len(asked.focus)


def specific(asked: Asked, sentence: str) -> bool:
    """Whether `sentence` states the asked-for fact exactly: a calendar date (a month, a
    year) for a date, a figure in digits for a number."""
    if asked.kind == w.DATE:
        return bool(w.CALENDAR_PATTERN.search(sentence))
    if asked.kind == w.NUMBER:
        return any(ch.isdigit() for ch in sentence)
    return False


@lru_cache(maxsize=64)
def _bases(text: str) -> frozenset[str]:
    """The stems of a passage's words, once per passage (its sentences are tested in turn)."""
    return frozenset(_base(word) for word in words(text))


def _holds_focus(
    asked: Asked, tokens: list[str], context: list[str], passage: frozenset[str]
) -> bool:
    """The qualifiers in the sentence, the names in the sentence, its context or its passage,
    the other focus words in the sentence or its context (all of them for a short question,
    `LONG_SHARE` of their weight for a longer one)."""
    found = tokens + context
    if not all(any(same_word(q, t) for t in tokens) for q in asked.qualifiers):
        return False
    names = [f for f in asked.focus if f in asked.names]
    if not all(_base(f) in passage or any(same_word(f, t) for t in found) for f in names):
        return False
    if len(names) == len(asked.focus):  # nothing but names: one of them in the sentence
        return any(same_word(f, t) for f in names for t in tokens)
    held = [any(same_word(f, t) for t in found) for f in asked.focus]
    weights = asked.weights if len(asked.weights) == len(held) else (1.0,) * len(held)
    predicate = [
        (h, wt) for f, h, wt in zip(asked.focus, held, weights, strict=True) if f not in asked.names
    ]
    if len(asked.focus) <= SHORT_FOCUS:
        return all(h for h, _ in predicate)
    total = sum(wt for _, wt in predicate) or 1.0
    return sum(wt for h, wt in predicate if h) / total >= LONG_SHARE


def _near_focus(asked: Asked, tokens: list[str], positions: list[int], window: int) -> bool:
    """Whether one of `positions` (of an answer in `tokens`) is within `window` words of a
    focus word of the sentence."""
    focus_at = [i for i, t in enumerate(tokens) if any(same_word(f, t) for f in asked.focus)]
    return any(abs(p - f) <= window for p in positions for f in focus_at)


def _position(tokens: list[str], sentence: str, char: int) -> int:
    """The index in `tokens` of the word at character `char` of `sentence`."""
    return len(words(sentence[:char]))


def _holds_kind(asked: Asked, sentence: str, tokens: list[str], asked_words: set[str]) -> bool:
    kind = asked.kind
    if kind == w.REASON:
        return bool(w.REASON_PATTERN.search(sentence))
    if kind == w.DATE:
        found = [
            _position(tokens, sentence, m.start())
            for m in w.DATE_PATTERN.finditer(sentence)
            if not set(m.group().lower().split()) <= asked_words
        ]
        return _near_focus(asked, tokens, found, DATE_WINDOW)
    if kind == w.NUMBER:
        return _holds_count(asked, sentence, tokens, asked_words)
    if kind == w.PLACE:
        return any(
            m.group(1).lower() not in asked_words and m.group(1).lower() not in w.NOT_NAMES
            for m in w.PLACE_PATTERN.finditer(sentence)
        ) or ("where" not in asked_words and bool(_new_names(tokens, asked_words)))
    return _names_near_predicate(asked, tokens, asked_words)


def _names_near_predicate(asked: Asked, tokens: list[str], asked_words: set[str]) -> bool:
    """Whether the sentence names someone the question does not, near a word of the focus
    that says what they do ("Mission chief Oda Lindqvist"; not "the mission is led by … the
    Valley Front", nor a name in a sentence whose neighbour holds the focus)."""
    names = _new_names(tokens, asked_words)
    if not names:
        return False
    predicate = [
        i
        for i, t in enumerate(tokens)
        if t not in names and any(same_word(f, t) for f in asked.focus)
    ]
    at = [i for i, t in enumerate(tokens) if t in names]
    return any(abs(i - p) <= NAME_WINDOW for i in at for p in predicate)


def _holds_count(asked: Asked, sentence: str, tokens: list[str], asked_words: set[str]) -> bool:
    dates = {
        _position(tokens, sentence, m.start()) + k
        for m in w.DATE_PATTERN.finditer(sentence)
        for k in range(len(words(m.group())))
    }
    numbers = [
        i
        for i, t in enumerate(tokens)
        if i not in dates
        and t.lower() not in asked_words
        and (any(ch.isdigit() for ch in t) or t.lower() in w.NUMBER_WORDS)
    ]
    if asked.counted is not None:
        counted = [i for i, t in enumerate(tokens) if same_word(asked.counted, t)]
        # "34 observers", "a delegation of six", "startups in the country is 9,000"
        return any(
            -COUNT_AFTER <= c - n <= COUNT_WINDOW and c != n for n in numbers for c in counted
        )
    return _near_focus(asked, tokens, numbers, DATE_WINDOW)


def _opener(word: str) -> bool:
    """Whether a sentence's capitalised first word is an ordinary word, not a name."""
    lowered = word.lower()
    plural = lowered.endswith("s") and not lowered.endswith("ss")
    return lowered in w.COMMON_OPENERS or plural or lowered in STOPWORDS


def _new_names(tokens: list[str], asked_words: set[str]) -> list[str]:
    """Capitalised words (names) the question does not hold; not the sentence's first word
    unless a name follows it ("Mira Castell said")."""
    names = []
    for i, token in enumerate(tokens):
        if not token[:1].isupper() or token.lower() in w.NOT_NAMES:
            continue
        if i == 0 and not (len(tokens) > 1 and tokens[1][:1].isupper()) and _opener(token):
            continue
        if token.lower() not in asked_words and _base(token) not in {_base(a) for a in asked_words}:
            names.append(token)
    return names
