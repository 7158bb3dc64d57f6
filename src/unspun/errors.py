"""The one exception hierarchy: each failure a user can cause is a one-line message, exit code."""

from __future__ import annotations


class UnspunError(Exception):
    """Base class. ``exit_code``: what the CLI exits with; ``http_status``: what the API answers."""

    exit_code = 1
    http_status = 500
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputNotFound(UnspunError):
    """A path that does not exist, or is a directory where a file was expected."""

    exit_code = 3
    http_status = 404
    code = "not_found"


class EmptyInput(UnspunError):
    """Nothing to check: empty, whitespace-only, or no article text left after parsing."""

    exit_code = 4
    http_status = 422
    code = "empty_input"


class BinaryInput(UnspunError):
    """Bytes that are not text in any encoding we can recognise."""

    exit_code = 5
    http_status = 422
    code = "binary_input"


class InputTooLarge(UnspunError):
    """Input over the configured size limit; refused before it is read into memory."""

    exit_code = 6
    http_status = 413
    code = "too_large"


class MalformedInput(UnspunError):
    """Structured input (JSON, JSONL, CSV, HTML, WARC) that cannot be parsed; it says where."""

    exit_code = 7
    http_status = 422
    code = "malformed_input"


class ModelUnavailable(UnspunError):
    """A model that is neither cached locally nor reachable (or offline mode forbids it)."""

    exit_code = 8
    http_status = 503
    code = "model_unavailable"


class ConfigError(UnspunError):
    """Options that do not fit together: unknown detector, bad target FPR, missing calibration."""

    exit_code = 9
    http_status = 422
    code = "bad_config"


class SourceIndexError(UnspunError):
    """A provenance index that is missing, corrupt, or unreachable."""

    exit_code = 10
    http_status = 503
    code = "index_error"


class Overloaded(UnspunError):
    """The service queue is full; retry later."""

    exit_code = 11
    http_status = 503
    code = "overloaded"
