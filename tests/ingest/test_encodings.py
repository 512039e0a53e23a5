"""Files in many encodings come out as the right Unicode; text whose encoding cannot be told
is reported, never garbled."""

from __future__ import annotations

import codecs
import random
from pathlib import Path

import pytest

from ingest.files import decode_bytes, read_path

ARTICLES = {
    "cp1251": (
        "Переговоры о прекращении огня возобновились в Женеве",
        "Делегации обеих сторон заявили во вторник, что готовы обсуждать обмен пленными и "
        "гуманитарные коридоры. «Мы видим первые признаки доверия», — сказал посредник ООН, "
        "добавив, что следующий раунд переговоров пройдёт в марте.",
        "Windows-1251",
    ),
    "shift_jis": (
        "ジュネーブで停戦交渉が再開された",
        "双方の代表団は火曜日、捕虜交換と人道回廊について協議する用意があると述べた。"
        "国連の仲介者は「信頼の最初の兆しが見える」と語り、次の協議は三月に行われると付け加えた。",
        "Shift_JIS (Windows-31J)",
    ),
    "iso-8859-7": (
        "Ξανάρχισαν οι συνομιλίες για την εκεχειρία στη Γενεύη",
        "Άγκυρα και Αθήνα δήλωσαν την Τρίτη ότι είναι έτοιμες να συζητήσουν την ανταλλαγή "
        "αιχμαλώτων. «Βλέπουμε τα πρώτα σημάδια εμπιστοσύνης», είπε ο μεσολαβητής του ΟΗΕ, "
        "προσθέτοντας ότι ο επόμενος γύρος θα γίνει τον Μάρτιο.",
        "ISO-8859-7",
    ),
    "cp1250": (
        "Rozmowy pokojowe wznowiono w Genewie we wtorek",
        "Delegacje obu stron oświadczyły, że są gotowe rozmawiać o wymianie jeńców i "
        "korytarzach humanitarnych. „Widzimy pierwsze oznaki zaufania” — powiedział mediator.",
        "Windows-1250",
    ),
    "cp1252": (
        "Les négociations de paix reprennent à Genève mardi",
        "Les délégués se sont déclarés prêts à discuter d’un échange de prisonniers et de "
        "corridors humanitaires, a précisé le médiateur à l’issue de la réunion.",
        "Windows-1252",
    ),
}


def markdown(title: str, body: str) -> str:
    return f"# {title}\n\n{body}\n"


@pytest.mark.parametrize("encoding", sorted(ARTICLES))
def test_undeclared_encodings_are_detected(tmp_path: Path, encoding: str) -> None:
    title, body, name = ARTICLES[encoding]
    path = tmp_path / "story.md"
    path.write_bytes(markdown(title, body).encode(encoding))

    collected = read_path(path)
    (article,) = collected.articles
    assert article.title == title
    assert article.body == body
    assert article.notes == (f"not valid UTF-8: detected {name}",)
    assert collected.notes == [f"{path}: not valid UTF-8: detected {name}"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8"])
def test_byte_order_marks(tmp_path: Path, encoding: str) -> None:
    title, body, _ = ARTICLES["cp1251"]
    bom = {
        "utf-16-le": codecs.BOM_UTF16_LE,
        "utf-16-be": codecs.BOM_UTF16_BE,
        "utf-8": codecs.BOM_UTF8,
    }.get(encoding, b"")
    path = tmp_path / "story.txt"
    path.write_bytes(bom + f"{title}\n\n{body}\n".encode(encoding))

    collected = read_path(path)
    (article,) = collected.articles
    assert (article.title, article.body) == (title, body)
    assert collected.notes == []


def test_scraped_text_and_json_records_are_detected_too(tmp_path: Path) -> None:
    title, body, _ = ARTICLES["cp1251"]
    (tmp_path / "a.txt").write_bytes(f"{title}\n\n{body}\n".encode("cp1251"))
    record = f'{{"title": "{title}", "body": "{body}"}}\n'
    (tmp_path / "b.jsonl").write_bytes(record.encode("cp1251"))

    collected = read_path(tmp_path)
    assert collected.failures == []
    assert [a.title for a in collected.articles] == [title, title]
    assert all(a.body == body for a in collected.articles)


def test_html_file_meta_charset_wins(tmp_path: Path) -> None:
    """Detection reads these Mac Cyrillic bytes as Windows-1251; the page's <meta> is right."""
    title, body, _ = ARTICLES["cp1251"]
    html = (
        f'<html><head><meta charset="x-mac-cyrillic"><title>{title}</title></head>'
        f"<body><article><h1>{title}</h1><p>{body}</p><p>{body}</p></article></body></html>"
    )
    data = html.encode("mac_cyrillic")
    notes: list[str] = []
    assert decode_bytes(data, notes) != html  # what detection alone would make of it
    path = tmp_path / "page.html"
    path.write_bytes(data)

    collected = read_path(path)
    (article,) = collected.articles
    assert body in article.body
    assert collected.notes == []


def test_declared_charset_that_does_not_fit_falls_back_to_detection() -> None:
    title, body, _ = ARTICLES["cp1251"]
    notes: list[str] = []
    text = decode_bytes(f"{title}\n{body}".encode("cp1251"), notes, declared="utf-8")
    assert text == f"{title}\n{body}"
    assert notes == [
        "declared charset utf-8 does not fit (undecodable byte at offset 0)",
        "not valid UTF-8: detected Windows-1251",
    ]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (random.Random(5).randbytes(4000).replace(b"\0", b""), "and no known one fits"),
        (b"A Headline About Talks\n\nBad \x81\x8d.\n", "2 bytes outside ASCII are too few"),
        (codecs.BOM_UTF16_LE + b"\x00\xd8", "byte order mark but is not UTF-16"),
        (b"Headline\n\nnul \x00 byte and more text", "binary file (contains NUL bytes)"),
    ],
)
def test_text_that_cannot_be_decoded_confidently_is_reported(
    tmp_path: Path, data: bytes, reason: str
) -> None:
    path = tmp_path / "mystery.txt"
    path.write_bytes(data)

    collected = read_path(path)
    assert collected.articles == []
    (failure,) = collected.failures
    assert reason in failure.reason
