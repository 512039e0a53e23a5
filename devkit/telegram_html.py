"""Telegram's HTML parse mode, checked as strictly as the Bot API does it.

Supported: b strong i em u ins s strike del tg-spoiler span.tg-spoiler a[href] code pre
blockquote[expandable] tg-emoji; the named entities &lt; &gt; &amp; &quot; and numeric ones.
A `<`, `>` or `&` that is not part of a tag or entity, an unknown tag, or a tag closed out of
order is an error, like Telegram's "can't parse entities".
"""

from __future__ import annotations

import html
import re

TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "tg-spoiler",
    "span",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-emoji",
}
NAMED_ENTITIES = {"lt", "gt", "amp", "quot"}
_TOKEN = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*)?)>|&([^;\s<>&]{1,10});|([<>&])")
_ATTR = re.compile(r'\s*([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|\'([^\']*)\'|([^\s"\'>]+)))?')


class ParseError(ValueError):
    """Bad Request: can't parse entities."""


def parse(text: str) -> str:
    """The plain text Telegram would show, or ParseError."""
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        out.append(text[pos : match.start()])
        pos = match.end()
        closing, name, attrs, entity, stray = match.groups()
        if stray:
            raise ParseError(f"unexpected {stray!r} at byte offset {match.start()}")
        if entity is not None:
            if entity.startswith("#"):
                try:
                    code = int(entity[2:], 16) if entity[1:2] in ("x", "X") else int(entity[1:])
                    out.append(chr(code))
                except ValueError as exc:
                    raise ParseError(f"bad numeric entity &{entity};") from exc
            elif entity in NAMED_ENTITIES:
                out.append(html.unescape(f"&{entity};"))
            else:
                raise ParseError(f"unsupported entity &{entity};")
            continue
        name = name.lower()
        if name not in TAGS:
            raise ParseError(f"unsupported start tag {name!r}")
        if closing:
            if not stack or stack[-1] != name:
                raise ParseError(f"unmatched end tag {name!r}")
            stack.pop()
            continue
        _check_attrs(name, attrs or "")
        stack.append(name)
    out.append(text[pos:])
    if stack:
        raise ParseError(f"unclosed start tag {stack[-1]!r}")
    return "".join(out)


def _check_attrs(name: str, attrs: str) -> None:
    found = {}
    for match in _ATTR.finditer(attrs):
        if match.group(1):
            value = next((g for g in match.groups()[1:] if g is not None), "")
            found[match.group(1).lower()] = value
    if name == "a" and "href" not in found:
        raise ParseError("a tag without href")
    if name == "span" and found.get("class") != "tg-spoiler":
        raise ParseError("span without class tg-spoiler")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
