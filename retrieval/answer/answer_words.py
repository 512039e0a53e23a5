"""The English words the answerer reads a question and a candidate sentence by, in one place:
the question words and the kinds of answer they ask for, the words that say a sentence holds a
date, a number, a place or a reason, the focus words that mean the same thing, and the marks of
text that is never an answer (headings, captions, embedded posts, bylines). Another language
adds its own lists beside these; `retrieval.answer.asking` only reads them.
"""

from __future__ import annotations

import re

# The kinds of answer a question asks for.
PERSON = "person"  # a person or an organisation: a name
PLACE = "place"
DATE = "date"  # a date or a time
NUMBER = "number"  # a count or an amount
REASON = "reason"
YES_NO = "yes/no"
DESCRIPTION = "description"

# Question words, as the first words of a question (or of a clause of it), and their kind.
# Longer cues are tried first ("how many" before "how").
QUESTION_WORDS: dict[str, str] = {
    "how many": NUMBER,
    "how much": NUMBER,
    "how long": NUMBER,
    "how old": NUMBER,
    "how often": NUMBER,
    "what time": DATE,
    "how soon": DATE,
    "how quickly": DATE,
    "how fast": DATE,
    "what date": DATE,
    "what day": DATE,
    "what year": DATE,
    "what month": DATE,
    "which day": DATE,
    "which year": DATE,
    "which month": DATE,
    "since when": DATE,
    "what caused": REASON,
    "what led to": REASON,
    "who": PERSON,
    "whom": PERSON,
    "whose": PERSON,
    "when": DATE,
    "where": PLACE,
    "why": REASON,
    "which": PERSON,
    "what": DESCRIPTION,
    "how": DESCRIPTION,
}
# "Which/what NOUN …": the noun says the kind ("which city" asks for a place).
KIND_NOUNS: dict[str, str] = {
    **dict.fromkeys("date day time year month week hour".split(), DATE),
    **dict.fromkeys(
        "number amount percentage percent figure total toll price cost sum share".split(), NUMBER
    ),
    **dict.fromkeys("city town village place country countries region venue".split(), PLACE),
    **dict.fromkeys("reason cause motive".split(), REASON),
    **dict.fromkeys(
        """person people man woman official company companies organisation organization
        group groups party parties outlet newspaper publication minister leader
        name""".split(),
        PERSON,
    ),
}
# Contractions a question word may carry ("who's mediating?").
CONTRACTIONS = {"s": "is", "re": "are", "ll": "will", "d": "did", "ve": "have"}
CONTRACTED = frozenset("who what when where why how which there it that".split())
# Words that open a yes/no question.
AUXILIARIES = frozenset(
    """is are was were do does did will would can could should has have had may might must
    shall""".split()
)
# Words of a question that say nothing about what is asked.
QUESTION_FILLER = frozenset(
    """a an the of to in on at for by with from about into as and or but be been being is are
    was were do does did will would can could should has have had may might must shall it its
    this that these those they them their there he him his she her i me my we us our you your
    what which who whom whose when where why how many much long old often there any some
    still now currently yet ever actually exactly please tell know take place happen happened
    happening get got going go since make made""".split()
)
# What a date or a place says by itself: "when is it held", "where is it based".
EVENT_VERBS = frozenset(
    """held hold holds take takes place happen happens scheduled located based set due
    planned""".split()
)
# A generic counted noun ("how many people …") does not say what is counted.
GENERIC_COUNTED = frozenset("people persons times members ones".split())

# Focus words that mean the same thing: a question asking when talks *start* is answered by a
# sentence saying when they *open*. Each word maps to its group; matched on whole words.
_SYNONYM_GROUPS = (
    "start starts started starting begin begins began begun beginning open opens opened "
    "opening launch launched kick kicks kicked commence commenced",
    "end ends ended ending close closes closed closing conclude concluded finish finished",
    "die dies died dead death deaths kill kills killed killing fatalities casualties lives",
    "free freed freeing release released releases exchange exchanged swap swapped",
    "lead leads led leader leaders leading head heads headed chief chair chairs chaired "
    "chairman chairs preside presides",
    "mediate mediates mediating mediated mediator mediators mediation broker brokers "
    "brokered envoy facilitate facilitated",
    "hold holds held host hosts hosted convene convened venue",
    "withdraw withdraws withdrew withdrawn withdrawal pull pulled pulls quit quits leave left "
    "boycott boycotted",
    "invite invites invited invitation invitations",
    "attend attends attended join joins joined participate participated part",
    "deploy deploys deployed deployment arrive arrives arrived arrival",
    "displace displaced displacement fled flee flees refugees",
    "sign signs signed signing",
    "agree agrees agreed agreement deal",
    "monitor monitors monitoring observer observers watch",
    "propose proposes proposed proposal suggest suggests suggested suggestion plan",
    "spokesman spokeswoman spokesperson",
    "say says said tell told statement",
    "demand demands demanded want wants wanted insist insisted call called",
    "refuse refuses refused reject rejects rejected",
    "base based",
)
SYNONYMS: dict[str, frozenset[str]] = {}
for _group in _SYNONYM_GROUPS:
    _words = frozenset(_group.split())
    for _word in _words:
        SYNONYMS[_word] = SYNONYMS.get(_word, frozenset()) | _words

MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
).split()
WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
DATE_PATTERN = re.compile(
    r"\b(?:(?:january|february|march|april|june|july|august|september|october|november|"
    r"december)(?:\s+\d{1,2}(?:st|nd|rd|th)?)?|may\s+\d{1,2}|\d{1,2}\s+(?:january|february|"
    r"march|april|may|june|july|august|september|october|november|december)|monday|tuesday|"
    r"wednesday|thursday|friday|saturday|sunday|today|tonight|tomorrow|yesterday|"
    r"(?:next|last|this|coming)\s+(?:week|month|year|weekend|spring|summer|autumn|fall|winter)|"
    r"(?:early|mid|late)[\s-]+(?:\w+)|(?:in|since|by|until|from)\s+(?:19|20)\d{2}|"
    r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}(?::\d{2})?\s*(?:a\.m\.|p\.m\.|am|pm)"
    r"|(?:19|20)\d{2}|(?:within|in|for)\s+(?:a|one|two|three|four|five|\d+)\s+(?:days?|weeks?|"
    r"months?|years?))\b",
    re.IGNORECASE,
)
CALENDAR_PATTERN = re.compile(
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|"
    r"december|(?:19|20)\d{2})\b",
    re.IGNORECASE,
)
NUMBER_WORDS = frozenset(
    """one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen
    sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety
    hundred hundreds thousand thousands million millions billion billions trillion dozen
    dozens half several""".split()
)
ORDINALS = frozenset(
    """first second third fourth fifth sixth seventh eighth ninth tenth last final
    next""".split()
)
# A place in a sentence: a preposition of place, then a name ("in Port Alva", "at the Amaro
# bridge").
PLACE_PATTERN = re.compile(
    r"\b(?:in|at|to|from|near|outside|inside|across|along|into|on|between|around|within|"
    r"throughout|through|beyond|toward|towards)\s+(?:(?:the|a|an)\s+)?([A-Z][\w'’-]+)"
)
# Words that give a reason.
REASON_PATTERN = re.compile(
    r"\b(?:because|since|after|due\s+to(?!\s+(?:open|start|begin|be|take|meet|arrive|hold|end|"
    r"close|return|resume|sign|visit|deploy|hold|vote|attend))|over|owing\s+to|as\s+a\s+result|in\s+order\s+to|"
    r"in\s+protest|to\s+protest|following|amid|so\s+that|citing|for\s+fear|blamed|"
    r"wanted|demand(?:s|ed)?|reason|caused?|led\s+to)\b",
    re.IGNORECASE,
)
# Capitalised words that are no name.
NOT_NAMES = frozenset(
    [*MONTHS, *WEEKDAYS, "i", "the", "a", "an", "mr", "mrs", "ms", "dr", "it", "he", "she"]
)

# Capitalised only because they open a sentence: a sentence's first word counts as a name
# unless it is one of these, a plural ("Officials said"), or a stopword.
COMMON_OPENERS = frozenset(
    """a an the it its he she they we i you his her their our this that these those there here
    in on at after before when while but and or so yet if as by for from with without during
    since until about over under between among according earlier later meanwhile however also
    only some many most more several few all both each every no not one two three four five
    local camp mission officials police government security military troops witnesses aid
    talks peace ceasefire fighting violence residents state foreign former senior top new
    last next first second third thousands hundreds dozens millions""".split()
)

# Text that is never an answer: an embedded post, a caption or credit, a byline, page furniture.
NOT_STATEMENTS = re.compile(
    r"pic\.twitter\.com|twitter\.com/|t\.co/|\(@\w+\)|—\s*\w[\w\s.]*\(@|"
    r"^\s*(?:photo|image|picture|video|caption|credit|file photo|watch|listen|read more|"
    r"related|advertisement|sign up|subscribe|click here|follow us|share this)\b|"
    r"getty images|\bap photo\b|/\s*reuters\b|\bcopyright\b|all rights reserved|"
    r"^\s*(?:by|reporting by|additional reporting by|based on reporting by|editing by|"
    r"written by)\s|accessibility links|breaking news",
    re.IGNORECASE,
)
MIN_STATEMENT_WORDS = 5
