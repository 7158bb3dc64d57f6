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


class FetchError(UnspunError):
    """A page or feed that could not be fetched: the host does not resolve, the connection fails
    or breaks. Subclasses name the other ways a fetch fails; the API answers them ``502`` (a
    problem on the far side), except where said."""

    exit_code = 12
    http_status = 502
    code = "fetch_failed"
    # The HTTP status of the answer, when there was one (a 404, or a 200 whose body was refused),
    # and the answer itself without its body (unspun.fetch.FetchedPage), when there was one.
    status: int | None = None
    page = None


class HostNotFound(FetchError):
    """The URL's host name does not resolve (a typo, or a site that is gone)."""

    code = "host_not_found"


class FetchTimeout(FetchError):
    """The server did not answer, or did not finish sending, within the time limit."""

    exit_code = 13
    http_status = 504
    code = "fetch_timeout"


class FetchHTTPError(FetchError):
    """The server answered with an error status (404, 500, ...); ``status`` holds it and
    ``retry_after`` the seconds a 429/503 asked to wait, if it said."""

    exit_code = 14
    code = "fetch_http_error"

    def __init__(self, message: str, status: int, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class FetchTooLarge(FetchError):
    """The page is over the size limit (declared, or as it arrived); the rest was not read."""

    exit_code = 15
    code = "fetch_too_large"


class FetchNotArticle(FetchError):
    """The URL answers with something that is not an HTML or text page (an image, a PDF, a
    program); nothing is parsed."""

    exit_code = 16
    http_status = 422
    code = "fetch_not_html"


class FetchRedirectError(FetchError):
    """A redirect loop, more redirects than allowed, or a redirect without a usable target."""

    exit_code = 17
    code = "fetch_redirect"


class URLRefused(FetchError):
    """A URL that unspun will not fetch: not http(s), or (unless allowed) its host resolves to a
    loopback, private, link-local, metadata or other non-public address."""

    exit_code = 18
    http_status = 422
    code = "url_refused"


class RateLimited(UnspunError):
    """Too many requests of one kind from one client (the server's URL fetches); retry later."""

    exit_code = 11
    http_status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after
