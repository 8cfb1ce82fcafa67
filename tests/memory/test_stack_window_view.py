"""MemoryStack keeps the window's token count and JSON incrementally: every model input and
snapshot equals one computed from scratch, whatever happened to the window in between."""

from __future__ import annotations

from memory import MemoryStack, TokenCounter
from memory.window import WindowMemory
from scaffold.messages import Message

COUNTER = TokenCounter("scripted/default")


def _msg(i: int, text: str | None = None) -> Message:
    role = "user" if i % 2 == 0 else "assistant"
    return Message(id=f"m{i}", role=role, content=text or f"turn {i} " + "word " * (i % 7),
                   author="user" if role == "user" else "nova", step=i // 2)


def _assert_fresh(stack: MemoryStack) -> None:
    window = stack.window.messages
    model_input = stack.model_input()
    assert model_input.sections["messages"] == COUNTER.messages([m.to_model() for m in window])
    assert model_input.messages[1:] == [m.to_model() for m in window]
    assert stack.prompt_tokens() == model_input.total_tokens
    assert stack.snapshot()["window"] == [m.model_dump(mode="json") for m in window]


def test_window_view_follows_appends_evictions_and_replacements() -> None:
    stack = MemoryStack("You are Nova.", [WindowMemory()], COUNTER, budget_tokens=4000)
    _assert_fresh(stack)
    for i in range(6):
        stack.observe([_msg(i)])
        _assert_fresh(stack)
    stack.window.evict({"m0", "m1"})
    _assert_fresh(stack)
    stack.observe([_msg(6), _msg(7)])
    _assert_fresh(stack)
    # same length, one message replaced in the middle: counted again, not taken from the memo
    messages = list(stack.window.messages)
    messages[2] = _msg(2, "a much longer replacement text " * 5)
    stack.window.messages = messages
    _assert_fresh(stack)
    snapshot = stack.snapshot()
    restored = MemoryStack("You are Nova.", [WindowMemory()], COUNTER, budget_tokens=4000)
    restored.restore(snapshot)
    _assert_fresh(restored)
    assert restored.snapshot() == snapshot


def test_snapshots_do_not_share_their_window_list() -> None:
    stack = MemoryStack("You are Nova.", [WindowMemory()], COUNTER, budget_tokens=4000)
    stack.observe([_msg(0), _msg(1)])
    first = stack.snapshot()
    stack.observe([_msg(2)])
    assert len(first["window"]) == 2 and len(stack.snapshot()["window"]) == 3


def test_message_copy_with_update_projects_the_new_content() -> None:
    original = _msg(1)
    assert original.to_model()["content"] == original.content  # projections cached
    assert original.to_json()["content"] == original.content
    copy = original.model_copy(update={"content": "changed"})
    assert copy.to_model()["content"] == "changed"
    assert copy.to_json()["content"] == "changed"
    assert original.to_json()["content"] != "changed"


def test_window_view_stays_fresh_through_random_evictions_and_insertions() -> None:
    import random

    rng = random.Random(7)
    stack = MemoryStack("You are Nova.", [WindowMemory()], COUNTER, budget_tokens=4000)
    made = 0
    for _ in range(60):
        action = rng.random()
        if action < 0.5 or not stack.window.messages:
            stack.observe([_msg(made, "x " * rng.randint(1, 30))])
            made += 1
        elif action < 0.8:
            ids = {m.id for m in stack.window.messages if rng.random() < 0.3}
            stack.window.evict(ids)
        else:  # a summary put in front, as summarizing memories do
            stack.window.messages = [_msg(1000 + made, "summary " * rng.randint(1, 9)),
                                     *stack.window.messages[rng.randint(0, 3):]]
            made += 1
        _assert_fresh(stack)
