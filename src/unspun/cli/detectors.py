"""``unspun detectors``: the detectors --detector accepts, and the calibrations saved for them."""

from __future__ import annotations

import json
import sys
from typing import Any

from unspun.cli.options import Format, OutputFormat, stdout_console


def detectors(output_format: Format = OutputFormat.text) -> None:
    """List the detectors --detector accepts, and the calibrations saved for them."""
    from unspun.detect.base import available_detectors
    from unspun.detect.calibration import saved_calibrations

    names = available_detectors()
    calibrations: dict[str, list[dict[str, Any]]] = {}
    for path, calibration in saved_calibrations():
        calibrations.setdefault(calibration.detector, []).append(
            {"file": str(path), "n": calibration.n, "settings": calibration.settings}
        )
    if output_format is OutputFormat.json:
        rows = [
            {"name": name, "description": text, "calibrations": calibrations.get(name, [])}
            for name, text in names.items()
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    from rich.table import Table

    table = Table(header_style="bold", box=None, pad_edge=False)
    table.add_column("Detector")
    table.add_column("What it does")
    table.add_column("Saved calibrations", justify="right")
    for name, text in names.items():
        table.add_row(
            name, text, str(len(calibrations.get(name, []))) if name in calibrations else ""
        )
    stdout_console().print(table)
