"""The languages newsbot reads: which language an article is in, and how to name it.

Detection uses py3langid (langid.py's model, bundled in the package, 4.6 MB, BSD): about
0.1 ms a sentence and 20 ms an article, offline, and it knows all six languages peace
processes here are reported in. (lingua-language-detector was measured too: a 96 MB wheel,
seconds to load each language's model, and no Pashto.) It is restricted to the supported
languages and a few widespread others, so a French article is not forced into one of the six.

Codes are ISO 639-1 ("ru"); "" is unknown (too little text, or a record indexed before
languages were detected).
"""

from __future__ import annotations

import threading
from typing import Any

# The languages the project supports: read, searched across (with a multilingual encoder), named.
SUPPORTED = ("en", "ru", "fa", "ar", "uk", "ps")
# Also told apart, so an article in one of these is not called one of the six.
OTHERS = ("fr", "de", "es", "it", "pt", "tr", "ur", "hi", "he", "zh", "ja", "ko", "pl", "nl")
NAMES = {
    "en": "English",
    "ru": "Russian",
    "fa": "Persian",
    "ar": "Arabic",
    "uk": "Ukrainian",
    "ps": "Pashto",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "tr": "Turkish",
    "ur": "Urdu",
    "hi": "Hindi",
    "he": "Hebrew",
    "zh": "Chinese",
    "ja": "Japanese",
    "ko": "Korean",
    "pl": "Polish",
    "nl": "Dutch",
}
# Enough of an article to tell its language; more only costs time.
SAMPLE_CHARS = 2000
# Below this many letters a guess is noise ("OK", a date line).
MIN_LETTERS = 12
# Below this probability (of the restricted set) the language is left unknown.
MIN_CONFIDENCE = 0.5


def language_name(code: str) -> str:
    """ "Russian" for "ru"; "unknown" for ""; the code itself for one without a name here."""
    return NAMES.get(code, code) if code else "unknown"


def in_language(code: str, reader: str = "en") -> str:
    """What a citation adds when its article is not in the reader's language: "in Russian"."""
    if not code or code == reader:
        return ""
    return f"in {language_name(code)}"


def languages_line(counts: dict[str, int]) -> str:
    """Articles per language for a status line: "English (609), Russian (2), unknown (1)"."""
    return ", ".join(f"{language_name(code)} ({n})" for code, n in counts.items())


class LanguageDetector:
    """py3langid restricted to the supported languages and `OTHERS`, loaded on first use."""

    def __init__(self, languages: tuple[str, ...] = SUPPORTED + OTHERS):
        self.languages = languages
        self._identifier: Any = None
        self._lock = threading.Lock()

    def _loaded(self) -> Any:
        if self._identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            identifier.set_languages(list(self.languages))
            self._identifier = identifier
        return self._identifier

    def detect(self, text: str) -> str:
        """The ISO 639-1 code of `text`'s language, or "" when it cannot be told."""
        sample = text[:SAMPLE_CHARS]
        if sum(ch.isalpha() for ch in sample) < MIN_LETTERS:
            return ""
        with self._lock:  # the identifier keeps state between calls
            code, confidence = self._loaded().classify(sample)
        return str(code) if confidence >= MIN_CONFIDENCE else ""


_shared = LanguageDetector()


def detect_language(text: str) -> str:
    """`LanguageDetector.detect` with one process-wide detector (its model loads once)."""
    return _shared.detect(text)
