"""The channel-neutral entry point: text in, replies out, one transaction each.

Every channel (terminal, Telegram) calls ``Assistant.handle``; the email channel,
which takes mails in batches, calls ``act_in`` in a transaction of its own. User
errors become a German reply and roll the transaction back, so nothing is
half-written; unexpected errors propagate to the channel, which logs them and
apologises.
"""

from __future__ import annotations

import enum
import logging

from core.conversation import commands, dialogues
from core.exchange.posts import TEXT_MAX
from core.kernel import german_format
from core.kernel.context import Ctx, Sender, Services
from core.kernel.errors import UserError
from core.kernel.grammar import Grammar, Parsed
from core.kernel.input_text import without_invisibles
from core.kernel.replies import Choice, IncomingFile, Reply
from core.kernel.texts import t
from core.members import dialogues as member_dialogues
from core.messaging import delivery
from core.store.models import Member
from core.store.unit_of_work import Database, UnitOfWork, WriteAttempted
from core.store.write_gate import WritePriority

log = logging.getLogger(__name__)
INPUT_MAX = 20_000  # a guard against pasted novels; posts have their own, lower limit


class _Unparsed(enum.Enum):
    """Not parsed yet (``None`` already means "parsed: no command")."""

    TOKEN = 0


_UNPARSED = _Unparsed.TOKEN


class Assistant:
    def __init__(self, db: Database, services: Services, grammar: Grammar | None = None) -> None:
        self.db = db
        self.services = services
        self.grammar = grammar or services.features.grammar

    async def handle(
        self,
        sender: Sender,
        text: str,
        *,
        event: tuple[str, str] | None = None,
        files: tuple[IncomingFile, ...] = (),
    ) -> list[Reply]:
        """Answer one input.

        ``event=(source, key)`` (e.g. a Telegram update_id) makes it idempotent: the event is
        recorded in the same transaction as its effects, and an event seen before gets no
        replies and changes nothing.
        """
        text = without_invisibles(text or "").strip()
        # Parsed once here: the read-only path and the command itself both use it.
        parsed = self.grammar.parse(text) if len(text) <= INPUT_MAX else None
        if not files and parsed is not None and parsed.command and parsed.command.reads_only:
            replies = await self._read(sender, text, parsed)
            if replies is not None:
                return replies
        return await self._in_transaction(sender, self._work(text, event, parsed), files)

    async def _read(self, sender: Sender, text: str, parsed: Parsed) -> list[Reply] | None:
        """A command that only reads, answered in a read-only transaction: it waits neither
        for the write gate nor for the match index, and records no event, since answering
        it twice (an update delivered again after a restart) changes nothing. None when it
        would write after all (it ends an open dialogue, say): then it runs as any other."""
        try:
            async with self.db.reader() as uow:
                try:
                    replies = await self._act(uow, sender, self._work(text, None, parsed))
                except UserError as error:
                    return [Reply(error.message)]
                return None if uow.changed else replies
        except WriteAttempted:
            return None

    async def act_in(
        self, uow: UnitOfWork, sender: Sender, text: str, files: tuple[IncomingFile, ...] = ()
    ) -> list[Reply]:
        """Act on one input in a transaction the caller owns and commits.

        For channels that take many inputs in one transaction (a batch of mails): the
        caller refreshes the match index once for all of them, and a ``UserError``
        propagates, because only the caller knows what must be rolled back with it.
        """
        return await self._act(uow, sender, self._work(text, None), files)

    def _work(
        self,
        text: str,
        event: tuple[str, str] | None,
        parsed: Parsed | _Unparsed | None = _UNPARSED,
    ):
        """``parsed``: the text's parse if the caller has it already (None: no command)."""
        text = (text or "").strip()

        async def work(ctx: Ctx) -> Reply | list[Reply]:
            if event is not None and not await delivery.first_time(ctx.uow, *event, ctx.now):
                return []
            if len(text) > INPUT_MAX:
                # The limit of a post too, so a member shortening a post does so once.
                return Reply(
                    t(
                        "common.input_too_long",
                        length=german_format.number(len(text)),
                        max=german_format.number(INPUT_MAX),
                        post_max=german_format.number(TEXT_MAX),
                    )
                )
            return await self._route(ctx, text, parsed)

        return work

    async def greet(self, sender: Sender) -> list[Reply]:
        """First words when a member opens a conversation (terminal chat)."""

        async def run(ctx: Ctx):
            unregistered = ctx.member is None or ctx.member.consent_at is None
            if unregistered and (question := await member_dialogues.registration_question(ctx)):
                return member_dialogues.resumed(question)  # a chat opened again
            if ctx.member is None:
                return await member_dialogues.start_registration(ctx)
            if ctx.member.consent_at is None:
                return await member_dialogues.ask_consent(ctx)
            return await commands.greeting(ctx)

        return await self._in_transaction(sender, run)

    async def _in_transaction(
        self, sender: Sender, work, files: tuple[IncomingFile, ...] = ()
    ) -> list[Reply]:
        # Posts other processes wrote (an import, a second service) join the index before
        # the write gate is taken: reading them is no reason to keep other writers waiting.
        # While another request of this process refreshes, this one does not wait for it
        # (the index may lag a moment; the database has the last word on every proposal).
        if not self.services.index.refreshing:
            async with self.db.uow() as uow:
                await self.services.index.refresh(uow)
                # What the refresh had to compute (a new process's first look after an
                # update of the model or the analyser) is kept: the next start reads it.
                await uow.commit()
        # Every message writes (at least its dedupe record): queue for the write gate.
        async with self.db.uow(WritePriority.INTERACTIVE) as uow:
            try:
                replies = await self._act(uow, sender, work, files)
            except UserError as error:
                await uow.rollback()  # nothing of a bad input stays
                return [Reply(error.message)]
            await uow.commit()
            return replies

    async def _act(
        self, uow: UnitOfWork, sender: Sender, work, files: tuple[IncomingFile, ...] = ()
    ) -> list[Reply]:
        ctx = Ctx(
            uow=uow,
            services=self.services,
            sender=sender,
            member=await self._resolve(uow, sender),
            now=self.services.clock(),
            files=files,
        )
        result = await work(ctx)
        return result if isinstance(result, list) else [result]

    @staticmethod
    async def _resolve(uow: UnitOfWork, sender: Sender) -> Member | None:
        if sender.channel == "telegram":
            member = await uow.members.by_telegram(int(sender.address))
        else:
            member = await uow.members.by_email(sender.address)
        return None if member is None or member.erased_at else member

    async def _route(
        self, ctx: Ctx, text: str, parsed: Parsed | _Unparsed | None = _UNPARSED
    ) -> Reply | list[Reply]:
        if isinstance(parsed, _Unparsed):
            parsed = self.grammar.parse(text)
        if parsed is not None:
            return await self._command(ctx, parsed)
        dialogue = await ctx.uow.dialogues.get(ctx.sender.key)
        if dialogue is not None:
            return await self._then(ctx, await dialogues.continue_dialogue(ctx, dialogue, text))
        if ctx.member is None:
            return await member_dialogues.start_registration(ctx)
        if ctx.member.consent_at is None:
            return await member_dialogues.ask_consent(ctx)
        return Reply(t("common.not_understood"), _hint_choices())

    async def _command(self, ctx: Ctx, parsed) -> Reply | list[Reply]:
        command = parsed.command
        unregistered = ctx.member is None or ctx.member.consent_at is None
        if command is None or not command.available_in(ctx.sender.channel):
            meant = self._close_command(ctx, parsed)
            if unregistered and meant is not None and meant.needs_member:
                # Before registering, a "Ja" to "Meinten Sie …?" would answer the
                # registration's question instead: the close command is taken as meant.
                word = parsed.word[:40]
                note = Reply(t("common.taken_as", word=word, command=f"/{meant.name}"))
                return [note, *_replies(await self._before_registration(ctx, meant, parsed.args))]
            return self._unknown(ctx, parsed)
        if command.needs_member and unregistered:
            return await self._before_registration(ctx, command, parsed.args)
        if unregistered and (question := await member_dialogues.registration_question(ctx)):
            if command.reads_only:  # /hilfe: answered, then the registration goes on
                return [*_replies(await command.handler(ctx, parsed.args)), question]
            if command.name in ("start", "verknuepfen") and not parsed.args.strip():
                return member_dialogues.resumed(question)
        # A new command leaves any unfinished dialogue; /loeschen reads its own question first.
        if command.name not in ("abbrechen", "loeschen"):
            await ctx.end()
        if command.staff_only and not (ctx.member and ctx.member.is_staff):
            return Reply(t("common.staff_only"))
        if not command.takes_files:
            ctx.files = ()
        try:
            return await command.handler(ctx, parsed.args)
        except UserError as error:
            if error.key != "common.number_missing":
                raise
            # Every command that acts on an item reads its number the same way; only here
            # is it known which command it was, so the example names it.
            raise UserError.of("common.number_missing_for", command=command.name) from None

    async def _before_registration(self, ctx: Ctx, command, args: str) -> Reply | list[Reply]:
        """A member's command from someone not yet registered (or not yet consenting): what
        they asked for is kept and carried out once they are; a registration under way goes
        on at its question instead of starting again."""
        pending = _worth_keeping(command, args)
        files: list[dict] = []
        refused: list[str] = []
        if pending and command.takes_files:
            if command.check_files is not None and ctx.files:
                passed, refused = command.check_files(ctx)
                ctx.files = tuple(passed)
            files = self._park(ctx)
        dialogue = await ctx.uow.dialogues.get(ctx.sender.key)
        reply = None
        if dialogue is not None and pending:
            reply = await member_dialogues.keep_for_later(ctx, dialogue, pending, files)
        elif dialogue is not None and (question := member_dialogues.question_again(ctx, dialogue)):
            reply = member_dialogues.resumed(question)  # nothing to keep (/loeschen)
        if reply is None:
            await ctx.end()
            if ctx.member is None:
                reply = await member_dialogues.start_registration(ctx, pending, files)
            else:
                reply = await member_dialogues.ask_consent(ctx, pending, files)
        # The same lines a member gets for the files refused, before the registration.
        return [Reply("\n\n".join(refused)), reply] if refused else reply

    def _park(self, ctx: Ctx) -> list[dict]:
        """Keep the files of an input set aside until registration: each is stored once by
        content hash in the knowledge file store, the dialogue keeps only the reference.
        A file the channel could read only in part is kept as a name, so it is reported."""
        store = self.services.knowledge.files
        parked = []
        for file in ctx.files:
            sha256 = store.put(file.data)[0] if file.complete else ""
            parked.append(
                {"name": file.filename, "type": file.content_type, "sha256": sha256,
                 "complete": file.complete}
            )  # fmt: skip
        return parked

    def _unpark(self, parked: list[dict]) -> tuple[IncomingFile, ...]:
        store = self.services.knowledge.files
        files = []
        for ref in parked:
            data = store.read(ref["sha256"]) if ref.get("sha256") else None
            files.append(
                IncomingFile(ref.get("name") or "", ref.get("type") or "", data or b"",
                             complete=data is not None)
            )  # fmt: skip
        return tuple(files)

    def _close_command(self, ctx: Ctx, parsed):
        """The command of the grammar closest to an unknown word, if one is close."""
        close = [
            command
            for command in self.grammar.close_to(parsed.word)
            if command.available_in(ctx.sender.channel) and command.listed
        ]
        return close[0] if close else None

    def _unknown(self, ctx: Ctx, parsed) -> Reply:
        """An unknown word; a close command of the grammar is offered with the same text."""
        word = parsed.word[:40]
        meant = self._close_command(ctx, parsed)
        if meant is None:
            return Reply(t("common.unknown_command", word=word), _hint_choices())
        retry = f"/{meant.name} {parsed.args}".strip()
        return Reply(
            t("common.did_you_mean", word=word, command=f"/{meant.name}"),
            [Choice(t("common.did_you_mean_choice", command=f"/{meant.name}"), retry),
             *_hint_choices()],
        )  # fmt: skip

    async def _then(self, ctx: Ctx, result: Reply | list[Reply]) -> list[Reply]:
        """The step's replies, followed by those of the input it set aside, if any."""
        replies = _replies(result)
        kept, ctx.then = ctx.then, []
        for text, parked in kept:
            ctx.files = self._unpark(parked)
            try:
                # A request kept during registration that fails now (a text too long) must
                # not undo the registration it waited for, nor the requests before it: it is
                # undone alone, and said why.
                async with ctx.uow.attempt():
                    replies += _replies(await self._route(ctx, text))
            except UserError as error:
                replies.append(Reply(error.message))
        return replies


def _replies(result: Reply | list[Reply]) -> list[Reply]:
    return result if isinstance(result, list) else [result]


def _worth_keeping(command, args: str) -> str | None:
    """The input to carry out after registration: a command that does something."""
    if command.name in ("start", "hilfe", "abbrechen", "loeschen"):
        return None
    return f"/{command.name} {args}".strip()


def _hint_choices() -> list[Choice]:
    return [Choice(t("welcome.choice_help"), "/hilfe")]
