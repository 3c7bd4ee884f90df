"""The terminal chat: the same grammar as Telegram, choices shown numbered.

Reads lines from standard input (interactive or piped) and prints replies.
Typing the number of a choice sends that choice's command.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path
from typing import TextIO

from core.kernel.context import Sender
from core.kernel.replies import Reply
from zukunftsraum.bootstrap import App

EXPORT_DIR = Path("var") / "exports"


class TerminalChat:
    def __init__(self, app: App, email: str, out: TextIO | None = None) -> None:
        self.app = app
        self.sender = Sender("terminal", email.strip().lower())
        self.out = out or sys.stdout  # looked up per chat: the stream in use now
        self.choices: list[str] = []

    def render(self, replies: list[Reply]) -> None:
        self.choices = []
        for reply in replies:
            self.out.write("\n" + reply.text + "\n")
            for choice in reply.choices:
                self.choices.append(choice.command)
                self.out.write(f"  [{len(self.choices)}] {choice.label}\n")
            for attachment in reply.attachments:
                EXPORT_DIR.mkdir(parents=True, exist_ok=True)
                path = EXPORT_DIR / attachment.filename
                path.write_bytes(attachment.data)
                self.out.write(f"  ({attachment.filename} gespeichert unter {path})\n")
        self.out.flush()

    def resolve(self, line: str) -> str:
        """A bare number picks the numbered choice of the last answer."""
        stripped = line.strip()
        if stripped.isdecimal() and len(stripped) < 6 and 1 <= int(stripped) <= len(self.choices):
            return self.choices[int(stripped) - 1]
        return stripped

    async def say(self, line: str) -> None:
        self.render(await self.app.assistant.handle(self.sender, self.resolve(line)))

    async def run(self, source: TextIO | None = None) -> None:
        source = source or sys.stdin  # looked up per chat, like the output
        interactive = source.isatty()
        self.render(await self.app.assistant.greet(self.sender))
        lines = _lines_of(source)
        while True:
            if interactive:
                self.out.write("\n> ")
                self.out.flush()
            line = await lines.get()
            if not line:
                break
            if not line.strip():
                continue
            if not interactive:
                self.out.write(f"\n> {line.strip()}\n")
            if line.strip().lower() in ("/exit", "/quit", "/ende"):
                break
            await self.say(line)


def _lines_of(source: TextIO) -> asyncio.Queue[str]:
    """The lines of `source` as they come, "" at its end, read by a daemon thread.

    Not the loop's default executor: a thread there that waits in readline() keeps
    asyncio.run() from returning after Ctrl-C until Enter is pressed.
    """
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()

    def read() -> None:
        try:
            for line in iter(source.readline, ""):
                loop.call_soon_threadsafe(lines.put_nowait, line)
            loop.call_soon_threadsafe(lines.put_nowait, "")
        except (RuntimeError, ValueError, OSError):
            return  # the chat has ended (closed loop) or the input is gone

    threading.Thread(target=read, name="terminal-input", daemon=True).start()
    return lines
