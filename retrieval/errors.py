"""Domain exceptions of newsbot's core.

NewsbotError                 base of every expected failure; its message is fit for a user
├── IndexNotFoundError       no index has been built yet for these settings (run `newsbot ingest`)
├── StoreUnavailableError    the Chroma server or data directory cannot be reached or opened
├── ModelLoadError           the embedding model cannot be loaded (offline, missing path)
└── BadQuestionError         a question that cannot be asked (empty, control characters only)

Anything else that escapes is a bug and is logged with its traceback.
"""


class NewsbotError(Exception):
    """An expected failure whose message can be shown to a user as is."""


class IndexNotFoundError(NewsbotError):
    pass


class StoreUnavailableError(NewsbotError):
    pass


class ModelLoadError(NewsbotError):
    pass


class BadQuestionError(NewsbotError):
    pass
