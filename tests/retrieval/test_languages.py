"""Every article's language told at ingest and named where it matters (py3langid's bundled
model, real and offline)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from retrieval.index.status import summarize
from retrieval.languages import (
    LanguageDetector,
    detect_language,
    in_language,
    language_name,
    languages_line,
)
from retrieval.types import ArticleRecord, Citation
from tests.retrieval.fakes import passage

SENTENCES = {
    "en": "Delegations from both sides said on Tuesday they were ready to discuss a prisoner swap.",
    "ru": "Делегации обеих сторон заявили во вторник, что готовы обсуждать обмен пленными.",
    "uk": "Делегації обох сторін заявили у вівторок, що готові обговорювати обмін полоненими.",
    "fa": "هیئت‌های دو طرف روز سه‌شنبه اعلام کردند که برای گفت‌وگو درباره تبادل اسیران آماده‌اند.",
    "ar": "أعلن وفدا الطرفين يوم الثلاثاء استعدادهما لبحث تبادل الأسرى والممرات الإنسانية.",
    "ps": "د دواړو خواوو پلاوو د سه شنبې په ورځ وویل چې د بندیانو د تبادلې په اړه خبرو ته چمتو دي.",
    "fr": "Les délégations des deux camps se sont dites prêtes mardi à discuter d'un échange.",
    "ja": "双方の代表団は火曜日、捕虜交換について協議する用意があると述べた。",
}


@pytest.mark.parametrize("code", sorted(SENTENCES))
def test_each_supported_language_and_a_few_others_are_told_apart(code):
    assert detect_language(SENTENCES[code]) == code


def test_too_little_text_is_unknown():
    assert detect_language("OK 2024") == ""
    assert detect_language("") == ""


def test_a_detector_restricted_to_some_languages_never_answers_another():
    only_two = LanguageDetector(("en", "ru"))
    assert only_two.detect(SENTENCES["uk"]) in {"ru", ""}


def test_languages_are_named_for_readers():
    assert language_name("fa") == "Persian"
    assert language_name("") == "unknown"
    assert in_language("ru") == "in Russian"
    assert in_language("en") == ""
    assert in_language("") == ""
    assert in_language("en", reader="ru") == "in English"
    assert languages_line({"en": 3, "ps": 1, "": 2}) == "English (3), Pashto (1), unknown (2)"


def record(article_id: str, language: str) -> ArticleRecord:
    return ArticleRecord(
        article_id, "v1", "t", "Outlet", None, None, None, None, "h", "o", 1, language=language
    )


def test_status_counts_articles_per_language_most_first():
    articles = [record("a", "en"), record("b", "ru"), record("c", "ru"), record("d", "")]
    assert summarize(articles)["languages"] == {"ru": 2, "en": 1, "": 1}


def test_the_language_travels_from_the_record_to_the_citation():
    meta = record("a", "ar").to_metadata()
    assert ArticleRecord.from_metadata(meta).language == "ar"
    assert "language" not in record("a", "").to_metadata()
    quoted = replace(passage("نص"), language="ar")
    assert Citation.quoting(1, quoted, "نص").language == "ar"
