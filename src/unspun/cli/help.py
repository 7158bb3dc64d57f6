"""Help-text presentation: boolean flags take no value, so their help row shows no type.

Typer 0.2x prints a ``<bool>`` type beside every flag (``--no-tokens <bool>``, even ``--help
<bool>``), which reads as if the flag wanted a value. Flags show no type here; every other option
keeps Typer's own type column.
"""

from __future__ import annotations

from typer.core import TyperOption

_typed = TyperOption.display_type_rich


def _display_type_rich(self: TyperOption, ctx):
    if self.is_flag and self.metavar is None:
        return None
    return _typed(self, ctx)


def hide_flag_types() -> None:
    TyperOption.display_type_rich = _display_type_rich
