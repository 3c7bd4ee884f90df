"""Reading an import file: CSV or JSON lines, each row with its line number, so that every
refusal names the line (members, posts and the knowledge collection's index)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

from core.kernel.errors import ImportFileError
from core.kernel.os_errors import os_error_text
from core.kernel.texts import t


def read_rows(path: Path) -> Iterator[tuple[int, dict]]:
    """Yield (line number, row) from a .csv or JSON-lines file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(
            t("importing.unreadable", file=str(path), error=os_error_text(exc))
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(t("importing.not_utf8", file=str(path))) from None
    if path.suffix.lower() == ".csv":
        yield from _csv_rows(text)
    else:
        yield from _json_rows(text)


def _csv_rows(text: str) -> Iterator[tuple[int, dict]]:
    reader = csv.DictReader(io.StringIO(text))
    for row in reader:
        if None in row:
            raise ImportFileError(t("importing.csv_columns", line=reader.line_num))
        yield reader.line_num, {k.strip(): (v or "").strip() for k, v in row.items() if k}


def _json_rows(text: str) -> Iterator[tuple[int, dict]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportFileError(t("importing.bad_json", line=number, column=exc.colno)) from None
        if not isinstance(row, dict):
            raise ImportFileError(t("importing.not_object", line=number))
        yield number, row
