"""Dates in a question: "since March 9", "before 2023-10-01", "this week", "latest" (pure).

A bounded range narrows the search to articles published in it; dates merely mentioned ("the
Polygon article published on September 26, 2023") favour articles from around those days;
"latest" orders by recency. Year-less dates mean their most recent occurrence before `now`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ]
    )
    for name in names
}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_DATE = re.compile(
    rf"\b(?:(?P<m1>{_MONTH})\.?\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y1>\d{{4}}))?"
    rf"|(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m2>{_MONTH})\.?(?:,?\s+(?P<y2>\d{{4}}))?"
    rf"|(?P<y3>\d{{4}})-(?P<m3>\d{{2}})-(?P<d3>\d{{2}}))\b",
    re.IGNORECASE,
)
_AFTER = re.compile(r"\b(?:since|after|from|starting)\s+(?:the\s+)?$", re.IGNORECASE)
_BEFORE = re.compile(r"\b(?:before|until|till|prior\s+to|up\s+to)\s+(?:the\s+)?$", re.IGNORECASE)
_LATEST = re.compile(
    r"\b(?:latest|most\s+recent|newest|recently|lately|last\s+news|up\s+to\s+date)\b",
    re.IGNORECASE,
)
_RELATIVE = {
    "today": 1,
    "yesterday": 2,
    "this week": 7,
    "past week": 7,
    "last week": 14,
    "this month": 31,
    "past month": 31,
    "last month": 62,
}


@dataclass(frozen=True)
class DateIntent:
    """The days a question asks about: a range, the days it names, or the latest news."""

    after: datetime | None = None  # inclusive
    before: datetime | None = None  # exclusive
    mentioned: tuple[datetime, ...] = field(default=())  # days the question names
    latest: bool = False

    @property
    def narrows(self) -> bool:
        return self.after is not None or self.before is not None

    def near_mentioned(self, timestamp: float | None, days: float = 1.5) -> bool:
        if timestamp is None:
            return False
        return any(abs(timestamp - d.timestamp()) <= days * 86400 for d in self.mentioned)


def parse_dates(question: str, now: datetime) -> DateIntent:
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    after = before = None
    mentioned: list[datetime] = []
    for match in _DATE.finditer(question):
        day = _to_date(match, now)
        if day is None:
            continue
        prefix = question[: match.start()]
        if _AFTER.search(prefix):
            after = day
        elif _BEFORE.search(prefix):
            before = day
        else:
            mentioned.append(day)
    lowered = question.lower()
    for phrase, days in _RELATIVE.items():
        if re.search(rf"\b{phrase}\b", lowered):
            after = now - timedelta(days=days)
            if phrase == "yesterday":
                before = now - timedelta(days=1) + timedelta(seconds=1)
            break
    return DateIntent(after, before, tuple(mentioned), bool(_LATEST.search(question)))


def _to_date(match: re.Match, now: datetime) -> datetime | None:
    groups = match.groupdict()
    if groups["y3"]:
        year, month, day = int(groups["y3"]), int(groups["m3"]), int(groups["d3"])
        year_given = True
    else:
        month = MONTHS[(groups["m1"] or groups["m2"]).lower().rstrip(".")]
        day = int(groups["d1"] or groups["d2"])
        year_text = groups["y1"] or groups["y2"]
        year_given = bool(year_text)
        year = int(year_text) if year_text else now.year
    try:
        value = datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        return None
    if not year_given and value > now:
        value = value.replace(year=year - 1)
    return value


def find_days(text: str) -> list[tuple[str, tuple[int, int]]]:
    """Days of the calendar written in `text` ("March 10", "10 March 2026", "2026-03-10"), as
    written and as (month, day): the same day however it is written, the year aside."""
    days = []
    for match in _DATE.finditer(text):
        groups = match.groupdict()
        if groups["y3"]:
            month, day = int(groups["m3"]), int(groups["d3"])
        else:
            month = MONTHS[(groups["m1"] or groups["m2"]).lower().rstrip(".")]
            day = int(groups["d1"] or groups["d2"])
        if 1 <= month <= 12 and 1 <= day <= 31:
            days.append((match.group().strip(), (month, day)))
    return days
