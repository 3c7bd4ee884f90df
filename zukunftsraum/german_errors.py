"""Operator-facing error texts in German: pydantic's validation errors (by error type) and,
from ``core.kernel.os_errors``, the operating system's (by errno), so that neither the
shell nor the configuration check shows the English texts of the libraries.

Each function returns one line without a trailing full stop; callers add the context
(the file, the setting, the option).
"""

from __future__ import annotations

from core.kernel.os_errors import os_error_line, os_error_text

__all__ = ["os_error_line", "os_error_text", "validation_text"]


def _quoted(value: object, limit: int = 40) -> str:
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"„{text}“"


def _alternatives(expected: str) -> str:
    # pydantic writes "'none', 'starttls' or 'tls'"
    return expected.replace(" or ", " oder ")


def validation_text(error: dict) -> str:
    """One pydantic error (an item of ``ValidationError.errors()``) in German."""
    kind = error.get("type", "")
    context = error.get("ctx") or {}
    given = _quoted(error.get("input", ""))
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{given} ist keine ganze Zahl"
    if kind in ("float_parsing", "float_type", "decimal_parsing", "decimal_type"):
        return f"{given} ist keine Zahl"
    if kind in ("bool_parsing", "bool_type"):
        return f"{given} ist kein Wahrheitswert (erwartet: true oder false)"
    if kind in ("literal_error", "enum"):
        return f"{given} ist nicht erlaubt (erwartet: {_alternatives(context.get('expected', ''))})"
    if kind == "missing":
        return "Angabe fehlt"
    bounds = {
        "greater_than_equal": ("ge", "zu klein (mindestens {})"),
        "greater_than": ("gt", "zu klein (größer als {})"),
        "less_than_equal": ("le", "zu groß (höchstens {})"),
        "less_than": ("lt", "zu groß (kleiner als {})"),
    }
    if kind in bounds:
        key, text = bounds[kind]
        return f"{given} ist " + text.format(context.get(key))
    if kind in ("string_too_long", "too_long"):
        return f"zu lang (höchstens {context.get('max_length')} Zeichen)"
    if kind in ("string_too_short", "too_short"):
        return f"zu kurz (mindestens {context.get('min_length')} Zeichen)"
    if kind in ("string_type", "str_type"):
        return f"{given} ist kein Text"
    if kind in ("path_type", "path_not_file", "path_not_directory"):
        return f"{given} ist kein gültiger Pfad"
    if kind in ("date_parsing", "date_from_datetime_parsing", "date_type"):
        return f"{given} ist kein Datum (erwartet: 2026-03-01)"
    if kind in ("datetime_parsing", "datetime_from_date_parsing", "datetime_type"):
        return f"{given} ist kein Zeitpunkt (erwartet: 2026-03-01 10:00)"
    if kind == "value_error":
        # Our own validators already phrase their reason in German.
        return str(error.get("msg", "")).removeprefix("Value error, ")
    return f"{given} ist kein gültiger Wert"
