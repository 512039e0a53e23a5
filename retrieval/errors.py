"""Every expected failure of newsbot, in one tree (tests/retrieval/test_errors.py keeps it
complete).

NewsbotError                 base of every expected failure; its message is fit for a user
├── IndexNotFoundError       no index has been built yet for these settings (run `newsbot ingest`)
├── StoreUnavailableError    the Chroma server or data directory cannot be reached or opened
├── IngestBusyError          another ingest holds the index's lock
├── ModelLoadError           the embedding model cannot be loaded (offline, missing path)
├── LLMConfigError           the configured chat model cannot be built (provider, package, key)
├── BadQuestionError         a question that cannot be asked (empty, control characters only)
└── SourcesFileError         the sources file cannot be read or does not describe sources

Messages name what failed and what to do, never a library's raw text: that goes to the log,
where the exception's cause (`raise ... from exc`) keeps it. Anything else that escapes is a
bug and is logged with its traceback.
"""


class NewsbotError(Exception):
    """An expected failure whose message can be shown to a user as is."""


class IndexNotFoundError(NewsbotError):
    """No index has been built yet for these settings (run `newsbot ingest`)."""


class StoreUnavailableError(NewsbotError):
    """The Chroma server or data directory cannot be reached or opened."""


class IngestBusyError(NewsbotError):
    """Another ingest holds the index's lock."""


class ModelLoadError(NewsbotError):
    """The embedding model cannot be loaded (offline, missing path)."""


class LLMConfigError(NewsbotError):
    """The configured chat model cannot be built (provider, package, key)."""


class BadQuestionError(NewsbotError):
    """A question that cannot be asked (empty, control characters only)."""


class SourcesFileError(NewsbotError):
    """The sources file cannot be read or does not describe sources."""
