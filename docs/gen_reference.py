"""MkDocs hook: writes the CLI reference and the JSON report schema at build time, from the code
itself (the Typer app ``unspun.cli.app`` and the pydantic models of ``unspun.report``), so the
pages cannot fall behind the commands and the contract they describe.

Run alone (``python docs/gen_reference.py OUTDIR``) it writes the two pages to OUTDIR."""

from __future__ import annotations

import json
import sys
from pathlib import Path

CLI_PAGE = "reference/cli.md"
SCHEMA_PAGE = "reference/report-schema.md"


def _commands(group, path: tuple[str, ...] = ()):
    """Every command of the click tree, groups first, in the order the app lists them."""
    yield path, group
    for name, command in getattr(group, "commands", {}).items():
        if getattr(command, "hidden", False):
            continue
        yield from _commands(command, (*path, name))


def cli_reference() -> str:
    import typer
    from typer.testing import CliRunner

    from unspun.cli import app

    runner = CliRunner()
    # Rich reads the width from COLUMNS when output is not a terminal; no colour codes in a page.
    env = {"COLUMNS": "100", "TERMINAL_WIDTH": "100", "NO_COLOR": "1", "TERM": "dumb"}
    parts = [
        "# Command-line reference",
        "",
        "Generated when the site is built, from `unspun <command> --help` of the installed code "
        "(`docs/gen_reference.py`). Every command also answers `-h`.",
        "",
    ]
    root = typer.main.get_command(app)
    for path, _command in _commands(root):
        title = " ".join(("unspun", *path))
        result = runner.invoke(app, [*path, "--help"], env=env, catch_exceptions=False)
        if result.exit_code != 0:
            raise RuntimeError(f"`{title} --help` exited {result.exit_code}: {result.output}")
        help_text = "\n".join(line.rstrip() for line in result.output.strip("\n").splitlines())
        level = "##" if len(path) <= 1 else "###"
        parts += [f"{level} `{title}`", "", "```text", help_text, "```", ""]
    return "\n".join(parts)


def _type_name(spec: dict) -> str:
    if "$ref" in spec:
        name = spec["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in spec:
        return " or ".join(_type_name(option) for option in spec["anyOf"])
    if "const" in spec:
        return f"`{json.dumps(spec['const'])}`"
    if "enum" in spec:
        return " \\| ".join(f"`{json.dumps(value)}`" for value in spec["enum"])
    kind = spec.get("type", "any")
    if kind == "array":
        if "prefixItems" in spec:
            return "[" + ", ".join(_type_name(item) for item in spec["prefixItems"]) + "]"
        return f"list of {_type_name(spec.get('items', {}))}"
    if kind == "object" and "additionalProperties" in spec:
        return f"object of {_type_name(spec['additionalProperties'])}"
    return {"null": "null", "integer": "integer", "number": "number"}.get(kind, kind)


def _model_table(name: str, spec: dict) -> list[str]:
    lines = [f"### {name}", ""]
    if spec.get("description"):
        lines += [" ".join(spec["description"].split()), ""]
    required = set(spec.get("required", []))
    lines += ["| field | type | required | description |", "| --- | --- | --- | --- |"]
    for field, field_spec in spec.get("properties", {}).items():
        description = " ".join(field_spec.get("description", "").split()).replace("|", "\\|")
        mark = "yes" if field in required else "no"
        lines.append(f"| `{field}` | {_type_name(field_spec)} | {mark} | {description} |")
    return [*lines, ""]


def report_schema() -> str:
    from unspun.report import SCHEMA, Report

    schema = Report.model_json_schema(by_alias=True)
    parts = [
        "# JSON report schema",
        "",
        f"Generated when the site is built from the pydantic models in `src/unspun/report.py` "
        f"(`Report.model_json_schema()`), so it is the contract the code enforces: `{SCHEMA}`. "
        "What the fields mean in practice is in [The JSON report](../report.md).",
        "",
        "## Models",
        "",
    ]
    parts += _model_table("Report", schema)
    for name, spec in sorted(schema.get("$defs", {}).items()):
        parts += _model_table(name, spec)
    parts += [
        "## JSON Schema",
        "",
        "```json",
        json.dumps(schema, indent=2, ensure_ascii=False),
        "```",
        "",
    ]
    return "\n".join(parts)


def on_files(files, config):
    """MkDocs event: add the generated pages to the site's files."""
    from mkdocs.structure.files import File

    for path, content in ((CLI_PAGE, cli_reference()), (SCHEMA_PAGE, report_schema())):
        existing = files.get_file_from_path(path)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, path, content=content))
    return files


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "site-reference")
    for path, content in ((CLI_PAGE, cli_reference()), (SCHEMA_PAGE, report_schema())):
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        print(target, file=sys.stderr)
