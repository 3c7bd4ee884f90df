"""The command line's parsing errors as one German line.

The Click that Typer carries builds its error messages in English when it raises them
(no translation catalogue). Its exceptions keep what went wrong in fields of their own
(the option's name, the parameter, the pydantic error behind a bad value), so the entry
point (``GermanGroup.main``) renders them here from those fields; the few messages that
exist only as text (an unknown command, extra arguments) are recognised by their fixed
wording. Anything unrecognised keeps its text rather than being lost.
"""

from __future__ import annotations

import difflib
import re

from pydantic import ValidationError
from typer import _click as click

from zukunftsraum.german_errors import os_error_text, validation_text

KINDS = {"option": "Option", "argument": "Argument", "parameter": "Angabe"}

_FIXED = (
    (
        re.compile(r"No such command '(?P<name>.*?)'\.( Did you mean .*\?)?$", re.S),
        "Unbekannter Befehl „{name}“",
    ),
    (re.compile(r"Missing command\.$"), "Befehl fehlt"),
    (
        re.compile(r"Got unexpected extra argument\(s\) \((?P<args>.*)\)$", re.S),
        "Zu viele Argumente: {args}",
    ),
    (
        re.compile(r"Option '(?P<name>[^']*)' requires an argument\.$"),
        "Die Option {name} braucht einen Wert",
    ),
    (
        re.compile(r"Option '(?P<name>[^']*)' requires (?P<n>\d+) arguments\.$"),
        "Die Option {name} braucht {n} Werte",
    ),
    (
        re.compile(r"Option '(?P<name>[^']*)' does not take a value\.$"),
        "Die Option {name} nimmt keinen Wert",
    ),
    (
        re.compile(r"Argument '(?P<name>[^']*)' takes (?P<n>\d+) values\.$"),
        "Das Argument {name} braucht {n} Werte",
    ),
    (
        re.compile(r"(?P<label>File|Directory|Path) '(?P<name>.*)' does not exist\.$", re.S),
        "{label_de} „{name}“ gibt es nicht",
    ),
    (
        re.compile(r"(?P<label>File|Directory|Path) '?(?P<name>.*?)'? is a file\.$", re.S),
        "„{name}“ ist eine Datei, kein Verzeichnis",
    ),
    (
        re.compile(r"(?P<label>File|Directory|Path) '?(?P<name>.*?)'? is a directory\.$", re.S),
        "„{name}“ ist ein Verzeichnis, keine Datei",
    ),
    (
        re.compile(r"(?P<label>File|Directory|Path) '?(?P<name>.*?)'? is not readable\.$", re.S),
        "„{name}“ ist nicht lesbar",
    ),
    (
        re.compile(r"(?P<label>File|Directory|Path) '?(?P<name>.*?)'? is not writable\.$", re.S),
        "„{name}“ ist nicht beschreibbar",
    ),
    (
        re.compile(r"Value (?P<value>.*) is not a valid (?P<type>\w+)\.$", re.S),
        "{value} ist kein gültiger Wert",
    ),
)
_LABELS = {"File": "Die Datei", "Directory": "Das Verzeichnis", "Path": "Der Pfad"}


def _fixed(message: str) -> str | None:
    for pattern, german in _FIXED:
        found = pattern.match(message.strip())
        if found:
            values = found.groupdict()
            values["label_de"] = _LABELS.get(values.get("label") or "", "")
            return german.format(**values)
    return None


def _param_hint(error: click.exceptions.BadParameter) -> str:
    if error.param_hint is not None:
        hint = error.param_hint
        return hint if isinstance(hint, str) else " / ".join(hint)
    param = error.param
    if param is None:
        return ""
    if getattr(param, "param_type_name", "") == "argument":
        return param.metavar or (param.name or "").upper()
    return " / ".join(getattr(param, "opts", None) or [param.name or ""])


def _value_reason(error: click.exceptions.ClickException) -> str:
    cause = error.__cause__
    if isinstance(cause, ValidationError) and cause.errors():
        return validation_text(cause.errors()[0])
    if isinstance(cause, OSError):
        return os_error_text(cause)
    return _fixed(error.message) or error.message


def _did_you_mean(error: click.exceptions.UsageError, name: str) -> str:
    command = error.ctx.command if error.ctx is not None else None
    known = list(getattr(command, "commands", {}) or {})
    close = difflib.get_close_matches(name, known, n=2, cutoff=0.6)
    return f" Meinten Sie {' oder '.join(close)}?" if close else ""


def german_text(error: click.exceptions.ClickException) -> str:
    """``error`` as one German sentence (without the "Fehler:" prefix and the help hint)."""
    if isinstance(error, click.exceptions.MissingParameter):
        kind = error.param_type or getattr(error.param, "param_type_name", "parameter")
        return f"{KINDS.get(kind, 'Angabe')} {_param_hint(error)} fehlt.".replace("  ", " ")
    if isinstance(error, click.exceptions.BadParameter):
        hint = _param_hint(error)
        reason = _value_reason(error)
        return f"Ungültiger Wert für {hint}: {reason}." if hint else f"Ungültiger Wert: {reason}."
    if isinstance(error, click.exceptions.NoSuchOption):
        text = f"Unbekannte Option {error.option_name}."
        if error.possibilities:
            text += f" Meinten Sie {' oder '.join(sorted(error.possibilities))}?"
        return text
    if isinstance(error, click.exceptions.FileError):
        reason = (
            os_error_text(error.__cause__)
            if isinstance(error.__cause__, OSError)
            else error.message
        )
        return f"Die Datei „{error.ui_filename}“ lässt sich nicht öffnen: {reason}."
    if isinstance(error, click.exceptions.UsageError) and isinstance(
        error.__cause__, ValidationError
    ):
        return f"Ungültiger Wert: {_value_reason(error)}."
    fixed = _fixed(error.message)
    if fixed is None:
        return error.message
    if isinstance(error, click.exceptions.UsageError) and fixed.startswith("Unbekannter Befehl"):
        name = re.match(r"No such command '(.*?)'\.", error.message.strip(), re.S)
        return fixed + "." + _did_you_mean(error, name.group(1) if name else "")
    return fixed + "."


def one_line(error: click.exceptions.ClickException) -> str:
    """The whole line for stderr: the reason and, for a usage error, where help is."""
    text = " ".join(german_text(error).split())
    ctx = getattr(error, "ctx", None)
    if ctx is not None and ctx.command.get_help_option(ctx) is not None:
        text += f" Hilfe: {ctx.command_path} {ctx.help_option_names[0]}"
    return text
