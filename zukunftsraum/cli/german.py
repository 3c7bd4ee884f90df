"""The command line's own words in German: help option, usage line, panel titles.

Typer (with the Click it carries) writes a few fixed English strings ("Show this message
and exit.", "Usage:", "Options", "[OPTIONS]"). Click lets the help option's text, the
metavars and the context's help formatter be replaced, and Typer keeps its panel titles as
module settings; this module sets all of them once, so ``--help`` on every command reads
German like the rest of the shell.
"""

from __future__ import annotations

import sys

import typer
import typer.rich_utils as typer_help
from typer import _click as click
from typer.core import TyperGroup
from typer.core import _TyperParameter as TyperParameter

HELP_OPTION_TEXT = "Diese Hilfe anzeigen und beenden."
USAGE_PREFIX = "Aufruf: "
OPTIONS_METAVAR = "[OPTIONEN]"
SUBCOMMAND_METAVAR = "BEFEHL [ARGUMENTE]..."


class GermanHelpFormatter(click.HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, USAGE_PREFIX if prefix is None else prefix)


class GermanGroup(TyperGroup):
    """The top-level group: every command below it gets the German help option, and a
    parsing error (an unknown option, a missing argument, a bad value) ends as one German
    line on stderr with exit code 2 instead of Click's English usage block."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _german_help_option(self)

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        from zukunftsraum.cli.errors import one_line

        try:
            result = super().main(*args, standalone_mode=False, **kwargs)
        except click.exceptions.NoArgsIsHelpError as error:
            if not standalone_mode:
                raise
            sys.exit(error.exit_code)  # the help has been printed
        except click.exceptions.ClickException as error:
            if not standalone_mode:
                raise
            click.echo(f"Fehler: {one_line(error)}", err=True)
            sys.exit(error.exit_code)
        except typer.Abort:
            if not standalone_mode:
                raise
            click.echo("Abgebrochen.", err=True)
            sys.exit(1)
        if not standalone_mode:
            return result
        # Without standalone mode Typer returns the code of an ``Exit`` instead of leaving.
        sys.exit(result if isinstance(result, int) else 0)


def _german_help_option(command: click.Command) -> None:
    option = command.get_help_option(click.Context(command))
    if option is not None:
        option.help = HELP_OPTION_TEXT
    command.options_metavar = OPTIONS_METAVAR
    if hasattr(command, "subcommand_metavar"):
        command.subcommand_metavar = SUBCOMMAND_METAVAR
    for sub in getattr(command, "commands", {}).values():
        _german_help_option(sub)


# The value types Typer shows beside each option in --help ("<int>"); a flag shows none.
TYPE_LABELS = {
    "<str>": "<Text>",
    "<int>": "<Zahl>",
    "<float>": "<Zahl>",
    "<bool>": "",
    "<path>": "<Pfad>",
    "<file>": "<Datei>",
    "<directory>": "<Ordner>",
    "<datetime>": "<Zeitpunkt>",
}


def _german_type(display_type):
    def display(self, ctx):
        label = display_type(self, ctx)
        return TYPE_LABELS.get(label, label)

    display.german = True
    return display


def use_german() -> None:
    click.Context.formatter_class = GermanHelpFormatter
    if not getattr(TyperParameter.display_type, "german", False):
        TyperParameter.display_type = _german_type(TyperParameter.display_type)
    typer_help.DEPRECATED_STRING = "(veraltet) "
    typer_help.DEFAULT_STRING = "[Standard: {}]"
    typer_help.ENVVAR_STRING = "[Umgebungsvariable: {}]"
    typer_help.REQUIRED_LONG_STRING = "[Pflicht]"
    typer_help.ARGUMENTS_PANEL_TITLE = "Argumente"
    typer_help.OPTIONS_PANEL_TITLE = "Optionen"
    typer_help.COMMANDS_PANEL_TITLE = "Befehle"
    typer_help.ERRORS_PANEL_TITLE = "Fehler"
    typer_help.ABORTED_TEXT = "Abgebrochen."
    typer_help.RICH_HELP = "Hilfe: [blue]'{command_path} {help_option}'[/]"
