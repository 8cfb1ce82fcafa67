"""On the embedded model a probe's answer depends on its request alone, not on earlier calls."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from scaffold.models import CallContext, ModelClient

MODEL = "local/qwen2.5-0.5b-instruct"
PERSONA = {"name": "John F. Kennedy", "anchors": []}
CONTEXT = [
    {"role": "system", "content": "You are John F. Kennedy, the 35th President of the United "
                                  "States, in 1962. Stay in character."},
    {"role": "user", "content": "How was your morning, Mr. President?"},
    {"role": "assistant", "content": "Busy, as always. I read the papers and met my staff."},
]
PROBE = [*CONTEXT, {"role": "user", "content": "Who are you?"}]
OTHER_AGENT = [
    {"role": "system", "content": "You are Ada Lovelace, a mathematician in 1843."},
    {"role": "user", "content": "Tell me about the Analytical Engine in two sentences."},
]
SUMMARY = [
    {"role": "system", "content": "Summarize the conversation in one sentence."},
    {"role": "user", "content": "User: How was your morning? JFK: Busy; papers and staff."},
]


def ignore(*_: Any, **__: Any) -> None:
    """Events are not under test here."""


async def ask(client: ModelClient, purpose: str, agent: str, messages: list[dict[str, Any]],
              **params: Any) -> str:
    ctx = CallContext(purpose=purpose, agent_id=agent, step=1, persona=PERSONA)
    reply = await client.complete(MODEL, messages, ctx, max_tokens=24, **params)
    return reply.content


async def probe_after(before: list[tuple[str, str, list[dict[str, Any]]]],
                      **params: Any) -> str:
    """The probe's answer after the given (purpose, agent, messages) calls ran first."""
    client = ModelClient(ignore)
    for purpose, agent, messages in before:
        await ask(client, purpose, agent, messages, temperature=0.7, seed=5)
    return await ask(client, "probe", "jfk", PROBE, **params)


@pytest.mark.slow
@pytest.mark.parametrize("params", [{"temperature": 0.0, "seed": 1},
                                    {"temperature": 0.7, "seed": 123}])
def test_probe_answer_does_not_depend_on_earlier_calls(params: dict[str, Any]) -> None:
    orders = [
        [],
        [("agent", "jfk", CONTEXT[:2])],
        [("agent", "ada", OTHER_AGENT), ("summarizer", "jfk", SUMMARY)],
        [("probe", "ada", [*OTHER_AGENT, {"role": "user", "content": "Who are you?"}])],
    ]
    answers = [asyncio.run(probe_after(order, **params)) for order in orders]
    assert answers[0].strip()
    assert answers == [answers[0]] * len(orders)
