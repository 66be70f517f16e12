"""User-facing errors: each says what is wrong and how to fix it, in one line."""


class CqqaError(Exception):
    """An error the command line reports as a one-line reason with a non-zero exit."""


class ModelFetchError(CqqaError):
    """The embedding model could not be fetched or failed verification."""


class SourceError(CqqaError):
    """A source document could not be read."""


class IndexProblem(CqqaError):
    """The index is missing, stale, corrupt or was built with another model."""


class QueryError(CqqaError):
    """The query is empty or unusable."""


class ConfigError(CqqaError):
    """A setting (environment variable or option) has a value cqqa cannot use."""


class LLMError(CqqaError):
    """The language model could not give an answer; the message says why, for the user."""


class EvalSetError(CqqaError):
    """An evaluation file is malformed; the message names the line and the field."""
