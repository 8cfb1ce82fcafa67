"""The text protocol that gives local models tool calls: prompts in, <tool_call> blocks out."""

from __future__ import annotations

import json

from scaffold.models._local_tools import parse_tool_calls, with_tools

TOOLS = [{"type": "function", "function": {
    "name": "python", "description": "Run Python.",
    "parameters": {"type": "object", "properties": {"code": {"type": "string"}}}}}]


def test_tools_join_the_system_message_and_history_is_written_as_text() -> None:
    call = {"id": "c1", "type": "function",
            "function": {"name": "python", "arguments": '{"code": "1+1"}'}}
    messages = [{"role": "system", "content": "You are JFK."},
                {"role": "user", "content": "Add."},
                {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "c1", "content": "2"},
                {"role": "tool", "tool_call_id": "c2", "content": "3"}]
    out = with_tools(messages, TOOLS)
    assert [m["role"] for m in out] == ["system", "user", "assistant", "user"]
    assert out[0]["content"].startswith("You are JFK.\n\n# Tools")
    assert json.dumps(TOOLS[0]) in out[0]["content"]
    assert out[2]["content"] == ('<tool_call>\n{"name": "python", "arguments": {"code": "1+1"}}'
                                 '\n</tool_call>')
    assert out[3]["content"] == "<tool_response>\n2\n</tool_response>\n" \
                                "<tool_response>\n3\n</tool_response>"
    assert with_tools([{"role": "user", "content": "hi"}], TOOLS)[0]["role"] == "system"
    assert with_tools([{"role": "user", "content": "hi"}], None) == [
        {"role": "user", "content": "hi"}]


def test_tagged_calls_are_parsed_and_the_rest_stays_text() -> None:
    text, calls = parse_tool_calls(
        'Let me check.\n<tool_call>\n{"name": "python", "arguments": {"code": "print(2)"}}\n'
        '</tool_call>\n<tool_call>{"name": "python", "arguments": "{\\"code\\": \\"3\\"}"}',
        TOOLS)
    assert text == "Let me check."
    assert [json.loads(c["function"]["arguments"]) for c in calls] == [
        {"code": "print(2)"}, {"code": "3"}]
    assert len({c["id"] for c in calls}) == 2 and all(c["type"] == "function" for c in calls)
    again = parse_tool_calls('<tool_call>{"name": "python", "arguments": {"code": "print(2)"}}'
                             '</tool_call>', TOOLS)[1]
    assert again[0]["id"] == calls[0]["id"]  # deterministic ids


def test_bare_or_fenced_call_objects_count_but_prose_with_json_does_not() -> None:
    fenced = '```json\n{"name": "python", "arguments": {"code": "6*7"}}\n```'
    assert parse_tool_calls(fenced, TOOLS)[1][0]["function"]["name"] == "python"
    prose = 'Here is an example: {"name": "python", "arguments": {"code": "6*7"}} for you.'
    assert parse_tool_calls(prose, TOOLS) == (prose, [])


def test_unknown_tools_and_malformed_bodies_stay_text() -> None:
    for text in ('<tool_call>{"name": "rm_rf", "arguments": {}}</tool_call>',
                 "<tool_call>{not json}</tool_call>",
                 '<tool_call>{"name": "python", "arguments": [1, 2]}</tool_call>',
                 '{"name": "python", "arguments": {"code": "1"}}'):
        tools = TOOLS if "rm_rf" in text or "<tool_call>" in text else None
        assert parse_tool_calls(text, tools) == (text, [])


def test_content_part_lists_become_their_text_with_tools_too() -> None:
    parts = [{"type": "text", "text": "Who are "}, {"type": "text", "text": "you?"}]
    [message] = with_tools([{"role": "user", "content": parts}], None)
    assert message == {"role": "user", "content": "Who are you?"}
