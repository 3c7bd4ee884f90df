"""Registration by mail in one reply: a prefilled form instead of four questions.

A stranger's first mail is answered with two sentences and one short form (name,
municipality, role, consent), prefilled from what the mail already tells
(``core.members.registration_hints``). The reply with the form filled in registers the member and
carries out what the first mail asked for; only what is still missing or unclear is asked
in a second mail. Telegram and the terminal keep the guided steps of
``core.members.dialogues``.
"""

from __future__ import annotations

import re

from core.kernel.context import Ctx
from core.kernel.errors import UserError
from core.kernel.german_format import echoed
from core.kernel.kept import with_kept
from core.kernel.replies import Choice, Reply
from core.kernel.texts import t
from core.members import accounts as members
from core.members.registration import finish_registration, yes_or_no
from core.members.registration_hints import exact_town, folded_letters, hints_for, role_in
from core.members.roles import SELF_SERVICE_ROLES, parse_role, role_label
from core.store.models import Dialogue

FLOW = "register_mail"
FIELDS = ("name", "municipality", "role", "consent")
TOWN_CHOICES = 6
# Labels a person may write in front of a value; the form uses the first of each.
_LABELS = {
    "name": ("name", "vor und nachname", "ihr name"),
    "municipality": ("kommune", "gemeinde", "stadt", "ort", "landkreis", "kreis", "wohnort"),
    "role": ("rolle", "funktion", "ihre rolle"),
    "consent": ("einverstanden", "zustimmung", "datenschutz", "einwilligung"),
}
_FIELD_LINE = re.compile(r"^[\s>*•\-]*([^\W\d_][\w .\-]{1,30}?)\s*:\s*(.*)$")


async def start(ctx: Ctx, pending: str | None, files: list[dict] | None = None) -> Reply:
    """The first answer: the explanation and the prefilled form."""
    sender = ctx.sender
    hints = hints_for(
        ctx.services.municipalities, sender.address, sender.display_name, sender.signature
    )
    data: dict = with_kept({}, pending, files) if pending else {}
    if hints.name:
        data["name"] = hints.name
    if hints.municipality:
        data["ags"] = hints.municipality.canonical_ags
        data["town"] = hints.municipality.display_name
    if hints.role in SELF_SERVICE_ROLES:
        data["role"] = hints.role
    await ctx.begin(FLOW, "form", data)
    intro = t("register_mail.intro_pending" if pending else "register_mail.intro")
    return Reply(f"{intro}\n\n{_form(data, FIELDS)}\n\n{t('register_mail.privacy')}")


async def keep(ctx: Ctx, data: dict, pending: str, files: list[dict] | None) -> Reply:
    """A command mailed while the form is open: kept beside the requests before it, and
    the form sent again with what is already known filled in."""
    data = with_kept(data, pending, files)
    await ctx.begin(FLOW, "form", data)
    intro = t("register_mail.intro_pending")
    return Reply(f"{intro}\n\n{_form(data, FIELDS)}\n\n{t('register_mail.privacy')}")


async def form_step(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    """A reply to the form: take what it says, register when complete, else ask the rest."""
    data = dict(dialogue.data)
    missing_before = _missing(data)
    found, problems = _read(ctx, text, missing_before, data)
    if found.get("consent") is False:
        await ctx.end()
        return Reply(t("register_mail.refused"))
    if not found and not any(problem.choices for problem in problems.values()):
        # Nothing usable in it: an error (nothing is written), counted by the mail channel
        # as a miss, so a dialogue going nowhere ends in silence for the day.
        reasons = [problem.text for problem in problems.values()]
        raise UserError(" ".join(reasons) or t("register_mail.nothing_understood"))
    data.update({k: v for k, v in found.items() if k != "consent"})
    consent = found.get("consent") or data.pop("consent", False)
    missing = [f for f in _missing({**data, "consent": consent}) if f not in problems]
    if not missing and not problems:
        return await _register(ctx, dialogue, data)
    if consent:
        data["consent"] = True
    await ctx.begin(FLOW, "form", data)
    return _ask_again(data, missing, problems)


def _missing(data: dict) -> list[str]:
    have = {"name": data.get("name"), "municipality": data.get("ags"), "role": data.get("role")}
    have["consent"] = data.get("consent")
    return [field for field in FIELDS if not have[field]]


def _read(ctx: Ctx, text: str, missing: list[str], data: dict) -> tuple[dict, dict]:
    """The fields a reply fills in (value per field) and the unclear ones (field -> reply).

    Labelled lines ("Rolle: Ehrenamt") are read first. A reply without labels is read as
    the answer to what was missing: "Ja" to the consent, a role word to the role, and,
    when only one field was missing, the whole line as that field.
    """
    found: dict = {}
    problems: dict[str, Reply] = {}
    bare: list[str] = []
    for line in (line.strip() for line in text.splitlines()):
        if not line:
            continue
        labelled = _labelled(line)
        if labelled is None:
            bare.append(line)
            continue
        field, value = labelled
        if not value or value == _form_value(data, field):
            continue  # left empty, or the proposal sent back unchanged: nothing new
        _take(ctx, field, value, found, problems)
    for line in bare:
        consent = yes_or_no(line)
        if consent is not None and "consent" not in found:
            found["consent"] = consent
        elif "role" not in found and role_in(line) and len(line) <= 60:
            _take(ctx, "role", line, found, problems)
        elif len([f for f in missing if f != "consent"]) == 1 and len(bare) <= 2:
            field = next(f for f in missing if f != "consent")
            if field not in found:
                _take(ctx, field, line, found, problems)
    return found, problems


def _labelled(line: str) -> tuple[str, str] | None:
    match = _FIELD_LINE.match(line)
    if match is None:
        return None
    label = folded_letters(match.group(1))
    label = re.sub(r"\s*\(.*$", "", label)
    for field, labels in _LABELS.items():
        if label in labels:
            return field, match.group(2).strip()
    return None


def _take(ctx: Ctx, field: str, value: str, found: dict, problems: dict) -> None:
    if field == "consent":
        consent = yes_or_no(value)
        if consent is not None:
            found["consent"] = consent
        return
    if field == "name":
        try:
            found["name"] = members.check_name(value)
        except UserError as error:
            problems["name"] = Reply(error.message)
        return
    if field == "role":
        role = parse_role(value) or role_in(value)
        if role in SELF_SERVICE_ROLES:
            found["role"] = role
        else:
            problems["role"] = Reply(t("register_mail.role_unclear", value=value[:60]))
        return
    town, unclear = _town(ctx, value)
    if town is not None:
        found["ags"], found["town"] = town.canonical_ags, town.display_name
    else:
        problems["municipality"] = unclear


def _town(ctx: Ctx, value: str):
    """The municipality a form value names, or None and the reply that says why not."""
    index = ctx.services.municipalities
    number = re.search(r"\b\d{8}\b|\b\d{5}\b", value)
    name = value.split(",", 1)[0].split("(", 1)[0].strip()
    if number is None:
        exact = exact_town(index, name)
        if exact is not None:
            return exact, None
    key = number.group(0) if number else None
    by_key = index.get(key) if key else None
    # The search reads "16835 Lindow (Mark)" as the municipality of postcode and name.
    query = value if number else name
    hits = [by_key] if by_key else index.search(query, limit=TOWN_CHOICES)
    if len(hits) == 1:
        return hits[0], None
    if not hits:
        key = "municipality_unknown" + ("_postcode" if value.strip().isdecimal() else "")
        return None, Reply(t(f"register_mail.{key}", query=echoed(value)))
    choices = [Choice(h.display_name, f"Kommune: {h.canonical_ags}") for h in hits]
    return None, Reply(t("register_mail.municipality_ambiguous", query=echoed(value)), choices)


async def _register(ctx: Ctx, dialogue: Dialogue, data: dict) -> Reply:
    return await finish_registration(ctx, {**data, "email": None})


def _ask_again(data: dict, missing: list[str], problems: dict[str, Reply]) -> Reply:
    """The second mail: only what is still missing or unclear, as form lines to fill in."""
    fields = [f for f in FIELDS if f in missing or f in problems]
    names = ", ".join(t(f"register_mail.missing_{f}") for f in fields)
    parts = [t("register_mail.still_missing", missing=names)]
    parts += [problem.text for problem in problems.values()]
    parts.append(_form(data, fields))
    if "consent" in fields:
        parts.append(t("register_mail.privacy"))
    choices = [c for problem in problems.values() for c in problem.choices]
    return Reply("\n\n".join(parts), choices)


def _form(data: dict, fields) -> str:
    lines = [t("register_mail.form_heading")]
    for field in fields:
        lines.append(t(f"register_mail.line_{field}", value=_form_value(data, field)))
        if field == "role" and not data.get("role"):
            roles = " · ".join(role_label(r) for r in SELF_SERVICE_ROLES)
            lines.append(t("register_mail.role_options", roles=roles))
    return "\n".join(lines)


def _form_value(data: dict, field: str) -> str:
    if field == "name":
        return data.get("name", "")
    if field == "municipality":
        return data.get("town", "")
    if field == "role":
        return role_label(data["role"]) if data.get("role") else ""
    return ""
