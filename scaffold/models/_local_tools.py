"""Tool calls for local chat models in Qwen's text protocol: <tools> in, <tool_call> out.

llama-cpp-python's generic chat handler ignores `tools`, so a local model never called one. Qwen2
and Qwen2.5 models (the embedded default among them) are trained on this protocol: the tool
signatures go into the system message, the model answers with `<tool_call>{json}</tool_call>`
blocks, and results come back as `<tool_response>` blocks in a user turn.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

TOOLS_PREAMBLE = (
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
    "{tools}\n</tools>\n\n"
    "For each function call, return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags:\n<tool_call>\n"
    '{{"name": <function-name>, "arguments": <args-json-object>}}\n</tool_call>')
"""Qwen2.5's own tool instructions (from its chat template), so the model recognises them."""

_CALL = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
_BARE = re.compile(r"^\s*(?:```(?:json)?\s*)?(\{.*\})\s*(?:```)?\s*$", re.DOTALL)
"""A reply that is nothing but a call object, maybe fenced: small models often drop the tags."""


def with_tools(messages: Sequence[dict[str, Any]], tools: Sequence[dict[str, Any]] | None
               ) -> list[dict[str, Any]]:
    """Messages in the text protocol: the tool signatures appended to the system message (one
    is added if there is none), earlier calls and results written out as text.

    Args:
        messages: OpenAI-format messages (assistant `tool_calls`, `tool` results allowed).
        tools: OpenAI-format tool schemas; None or empty leaves the system message alone.

    Returns:
        Messages with roles system, user and assistant and text content only.
    """
    out = [_as_text(m) for m in messages]
    out = _merge_tool_results(out)
    if tools:
        preamble = TOOLS_PREAMBLE.format(tools="\n".join(json.dumps(t) for t in tools))
        if out and out[0]["role"] == "system":
            out[0] = {**out[0], "content": f"{out[0]['content']}\n\n{preamble}"}
        else:
            out.insert(0, {"role": "system", "content": preamble})
    return out


def content_text(content: Any) -> str:
    """Message content as plain text: OpenAI content-part lists keep their text parts."""
    if content is None:
        return ""
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content)


def _as_text(message: dict[str, Any]) -> dict[str, Any]:
    role, content = message.get("role", "user"), content_text(message.get("content"))
    if role == "assistant" and message.get("tool_calls"):
        calls = [_call_text(c) for c in message["tool_calls"]]
        return {"role": "assistant", "content": "\n".join(p for p in (content, *calls) if p)}
    if role == "tool":
        return {"role": "tool", "content": f"<tool_response>\n{content}\n</tool_response>"}
    return {"role": "system" if role == "developer" else role, "content": content}


def _call_text(call: dict[str, Any]) -> str:
    function = call.get("function") or {}
    arguments = function.get("arguments")
    try:
        arguments = json.loads(arguments) if isinstance(arguments, str) else arguments
    except ValueError:
        pass  # written as given: the model sees what it produced
    body = json.dumps({"name": function.get("name"), "arguments": arguments})
    return f"<tool_call>\n{body}\n</tool_call>"


def _merge_tool_results(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive tool results become one user turn, as Qwen's template renders them."""
    out: list[dict[str, Any]] = []
    for message in messages:
        if message["role"] != "tool":
            out.append(message)
        elif out and out[-1].get("tool_results"):
            out[-1] = {**out[-1], "content": f"{out[-1]['content']}\n{message['content']}"}
        else:
            out.append({"role": "user", "content": message["content"], "tool_results": True})
    return [{"role": m["role"], "content": m["content"]} for m in out]


def parse_tool_calls(text: str, tools: Sequence[dict[str, Any]] | None
                     ) -> tuple[str, list[dict[str, Any]]]:
    """Split a reply into its plain text and OpenAI-format tool calls.

    Calls are `<tool_call>` blocks, or a reply that is nothing but one call object (optionally in
    a ```json fence: small models drop the tags). Only calls of offered tools whose body is a
    JSON object count; anything else stays text (the model's reply, recorded as it is).

    Returns:
        (text outside the call blocks, tool calls with deterministic ids).
    """
    names = {(t.get("function") or {}).get("name") for t in tools or ()}
    calls, spans = [], []
    bare = _BARE.match(text) if names and "<tool_call>" not in text else None
    for match in ([bare] if bare else _CALL.finditer(text)):
        call = _parse_call(match.group(1), names)
        if call is not None:
            calls.append(call)
            spans.append(match.span())
    if not calls:
        return text, []
    kept, last = [], 0
    for start, end in spans:
        kept.append(text[last:start])
        last = end
    kept.append(text[last:])
    for i, call in enumerate(calls):
        digest = hashlib.sha256(f"{i}:{call['function']}".encode()).hexdigest()[:12]
        call["id"] = f"call_{digest}"
    return "".join(kept).strip(), calls


def _parse_call(body: str, names: set[Any]) -> dict[str, Any] | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("name") not in names:
        return None
    arguments = data.get("arguments", {})
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return None
    if not isinstance(arguments, dict):
        return None
    return {"type": "function",
            "function": {"name": data["name"], "arguments": json.dumps(arguments)}}
