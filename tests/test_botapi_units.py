"""Unit tests of the fake Bot API's building blocks (no HTTP)."""

import asyncio

import pytest

from tests.support.botapi import ApiError, RateLimiter, RateLimits
from tests.support.botapi.formatting import render
from tests.support.botapi.updates import UpdateQueue


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _limiter(**limits) -> tuple[RateLimiter, FakeClock]:
    clock = FakeClock()
    return RateLimiter(RateLimits(enabled=True, **limits), clock=clock), clock


def _retry_after(limiter: RateLimiter, chat_id: int) -> int:
    with pytest.raises(ApiError) as caught:
        limiter.admit("sendMessage", chat_id)
    assert caught.value.code == 429
    return caught.value.parameters["retry_after"]


def test_private_chat_sliding_window_of_one_second():
    limiter, clock = _limiter()
    limiter.admit("sendMessage", 7)
    clock.now += 0.5
    assert _retry_after(limiter, 7) == 1
    limiter.admit("sendMessage", 8)  # other chats are not affected
    clock.now += 0.5
    limiter.admit("sendMessage", 7)
    assert limiter.too_many_requests == 1
    assert [a.chat_id for a in limiter.accepted] == [7, 8, 7]


def test_group_limit_is_per_minute():
    limiter, clock = _limiter(group_per_minute=20)
    for _ in range(20):
        limiter.admit("sendMessage", -5)
        clock.now += 1
    assert _retry_after(limiter, -5) == 40  # the first message leaves the window at t+60
    clock.now += 40
    limiter.admit("sendMessage", -5)


def test_global_limit_and_uncounted_methods():
    limiter, clock = _limiter(global_per_second=30)
    for chat_id in range(1, 31):
        limiter.admit("sendMessage", chat_id)
    assert _retry_after(limiter, 99) == 1
    limiter.admit("getMe", 99)  # only message-sending methods count
    clock.now += 1
    limiter.admit("sendMessage", 99)


def test_disabled_limiter_only_records():
    limiter = RateLimiter(RateLimits(), clock=FakeClock())
    for _ in range(50):
        limiter.admit("sendMessage", 1)
    assert limiter.too_many_requests == 0 and len(limiter.accepted) == 50


@pytest.mark.parametrize(
    ("text", "mode", "plain", "types"),
    [
        ("<b>a</b><i>b</i>", "HTML", "ab", ["bold", "italic"]),
        ('<a href="https://x.org">x</a>', "HTML", "x", ["text_link"]),
        ("1 &lt; 2", "HTML", "1 < 2", []),
        ("*fett* \\- _kursiv_", "MarkdownV2", "fett - kursiv", ["bold", "italic"]),
        ("||geheim||", "MarkdownV2", "geheim", ["spoiler"]),
        ("*fett* 1.5", "Markdown", "fett 1.5", ["bold"]),
        ("👍 <b>ok</b>", "HTML", "👍 ok", ["bold"]),
    ],
)
def test_parse_modes(text, mode, plain, types):
    result, entities = render(text, mode)
    assert result == plain
    assert [e["type"] for e in entities] == types


def test_entity_offsets_count_utf16_units():
    _, entities = render("👍 <b>ok</b>", "HTML")
    assert entities[0]["offset"] == 3  # the emoji is a surrogate pair


@pytest.mark.parametrize(
    ("text", "mode"),
    [("a < b", "HTML"), ("<x>y</x>", "HTML"), ("<b>y", "HTML"), ("1.5", "MarkdownV2")],
)
def test_parse_errors(text, mode):
    with pytest.raises(ApiError, match="can't parse entities"):
        render(text, mode)


def _update(update_id: int, kind: str = "message") -> dict:
    return {"update_id": update_id, kind: {}}


async def test_offset_confirms_and_replays_survive_once():
    queue = UpdateQueue()
    for update_id in (1, 2, 3):
        queue.push(_update(update_id))
    assert [u["update_id"] for u in await queue.long_poll(None, 100, 0)] == [1, 2, 3]
    queue.push(_update(2), replay=True)  # a duplicate delivered again
    assert [u["update_id"] for u in await queue.long_poll(4, 100, 0)] == [2]
    assert await queue.long_poll(3, 100, 0) == []


async def test_default_allowed_updates_skip_reactions():
    queue = UpdateQueue()
    queue.push(_update(1, "message_reaction"))
    queue.push(_update(2))
    assert [u["update_id"] for u in await queue.long_poll(None, 100, 0)] == [2]


async def test_second_long_poll_terminates_the_first():
    queue = UpdateQueue()
    first = asyncio.create_task(queue.long_poll(None, 100, 5))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(queue.long_poll(None, 100, 0))
    with pytest.raises(ApiError, match="terminated by other getUpdates"):
        await first
    assert await second == []


def test_missing_shared_material_skips_locally_but_fails_in_ci(monkeypatch, tmp_path):
    from tests.support import shared

    monkeypatch.setattr(shared, "SHARED_DIR", tmp_path / "absent")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="absent"):
        shared.shared_path("conformance")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required when CI=true"):
        shared.shared_path("conformance")
