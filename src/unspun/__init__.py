"""unspun: was this news article machine-written, what was it spun from, and what was made up?

The names a library user needs are importable from here (see docs/python.md)::

    from unspun import check, read_article

    report = check(read_article("article.html"))

They load on first use (PEP 562), so ``import unspun`` and the command line stay fast.
"""

from __future__ import annotations

from importlib import import_module

# Not typing.TYPE_CHECKING: importing typing alone would double the cost of `import unspun`.
TYPE_CHECKING = False

__version__ = "0.1.0"

# Public name -> the module that defines it.
_EXPORTS = {
    "Article": "unspun.article.model",
    "CheckConfig": "unspun.pipeline",
    "Checker": "unspun.pipeline",
    "Report": "unspun.report",
    "UnspunError": "unspun.errors",
    "check": "unspun.pipeline",
    "parse_html": "unspun.article.html",
    "parse_record": "unspun.article.record",
    "parse_text": "unspun.article.text",
    "read_article": "unspun.article.reader",
    "read_article_bytes": "unspun.article.reader",
}

__all__ = [
    "Article",
    "CheckConfig",
    "Checker",
    "Report",
    "UnspunError",
    "__version__",
    "check",
    "parse_html",
    "parse_record",
    "parse_text",
    "read_article",
    "read_article_bytes",
]

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ imports on demand
    from typing import Any

    from unspun.article.html import parse_html
    from unspun.article.model import Article
    from unspun.article.reader import read_article, read_article_bytes
    from unspun.article.record import parse_record
    from unspun.article.text import parse_text
    from unspun.errors import UnspunError
    from unspun.pipeline import CheckConfig, Checker, check
    from unspun.report import Report


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'unspun' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # looked up once; later accesses skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
