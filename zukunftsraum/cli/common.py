"""What every command group shares: output, one-line errors, the app per command."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import SQLAlchemyError

from core.kernel.errors import ImportFileError, UserError
from zukunftsraum.bootstrap import App, build_app
from zukunftsraum.cli import labels as cli_labels
from zukunftsraum.cli.german import use_german
from zukunftsraum.german_errors import os_error_line
from zukunftsraum.settings import ConfigError, Settings, load_settings

use_german()

err = Console(stderr=True)

out = Console(highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> None:
    err.print(f"[red]Fehler:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def async_command(func: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an async command; known errors become one line and a non-zero exit."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs) -> None:
        try:
            asyncio.run(func(*args, **kwargs))
        except (ConfigError, ImportFileError) as error:
            fail(str(error), 2)
        except UserError as error:
            fail(cli_labels.staff_message(error), 2)
        except SQLAlchemyError as error:
            fail(
                f"Datenbank: {str(error.orig if hasattr(error, 'orig') else error).splitlines()[0]}"
            )
        except OSError as error:
            fail(os_error_line(error))
        except KeyboardInterrupt:
            raise typer.Exit(130) from None

    return wrapper


def settings_or_fail() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        fail(str(error), 2)
        raise  # unreachable, for type checkers


@asynccontextmanager
async def open_app():
    application: App = await build_app(settings_or_fail())
    try:
        yield application
    finally:
        await application.close()


FormatOption = Annotated[str, typer.Option(help="tabelle oder json (JSON Lines, alle Felder)")]


def checked_format(format: str) -> str:
    if format not in cli_labels.FORMATS:
        fail("--format muss tabelle oder json sein.", 2)
    return format


# --- import -----------------------------------------------------------------------


def progress_bar(label: str, total: int | None) -> tuple[Progress, Callable[[int], None]]:
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    )
    task = progress.add_task(label, total=total)
    return progress, lambda n: progress.advance(task, n)
