"""Scripted deterministic model: replies from a script, seeded filler, optional persona break."""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scaffold.errors import ModelError
from scaffold.registry import register

_WORDS = (
    "morning letter garden river council plan question harbor winter budget speech friend "
    "history promise evening journey family market science courage treaty school answer "
    "weather dinner book ocean bridge city memory project village mountain music coffee "
    "election newspaper rocket moon policy patience quiet careful honest simple future"
).split()

ASSISTANT_REPLIES = (
    "As an AI language model, I don't have a personal identity or experiences. I'm an "
    "assistant created to help answer your questions.",
    "I am an AI assistant, a large language model. I don't have a name, a body or a "
    "location, but I'm happy to help with whatever you need.",
    "I'm just a chatbot, an artificial intelligence developed to assist users. I cannot "
    "claim to be a real person.",
)


class Script(BaseModel):
    """A scripted model's behaviour; every field has a working default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["template", "context-hash"] = "template"
    """`template`: replies from the templates below, which read only the step, the purpose and
    the last user message. `context-hash`: every reply but the judge's is
    `[<hash of the whole request>] <purpose>: <the turn it answers>`, so that any change to
    any message (system prompt, memory, history) changes the reply and everything after it;
    the turn answered is the first user message after the last assistant reply, as a chat
    model takes up the oldest of several unanswered turns."""
    seed: int = 0
    """Seed mixed into every reply's random choices."""
    break_at: int | None = Field(default=None, ge=0)
    """From this step on, answer as a generic AI assistant."""
    replies: list[str] = Field(default_factory=lambda: ["{anchor} {filler}"])
    """Agent reply templates, chosen by step; placeholders {step}, {anchor}, {filler}, {name}."""
    probe_reply: str = "{anchors}"
    """Template for probe answers before the break."""
    summary_reply: str = "Summary of the conversation so far: {anchor} {filler}"
    """Template for summaries before the break."""
    summary_replies: dict[int, str] = Field(default_factory=dict)
    """Per-step summary overrides (e.g. a refusal at step 7)."""
    sleeptime_reply: str = "{anchor} {filler}"
    """Template for a sleep-time agent's rewritten block before the break."""
    role_replies: dict[str, list[str]] = Field(default_factory=dict)
    """Per call purpose of a memory helper role (importance, reflector, fact_extractor,
    fact_update), reply templates chosen by step before the break; unlisted purposes use
    ROLE_REPLIES. Placeholders as in `replies` plus {rating} (1-10, seeded) and {anchor_json}
    (the anchor as a JSON string); other braces (JSON) are left as they are."""
    break_replies: list[str] = Field(default_factory=lambda: list(ASSISTANT_REPLIES))
    """Replies after the break."""
    filler_words: tuple[int, int] = (30, 60)
    """Range of filler length in words."""
    fail_first: int = Field(default=0, ge=0)
    """Raise a transient error on the first N attempts of each distinct request."""
    tool_calls: dict[int, list[dict[str, Any]]] = Field(default_factory=dict)
    """Per step, tool calls the agent makes first: [{name: ..., arguments: {...}}]."""


ROLE_REPLIES: dict[str, list[str]] = {
    "importance": ["{rating}"],
    "reflector": ["What matters most to {name}?\n{anchor} (because of 1, 2)"],
    "fact_extractor": ['{"facts": [{anchor_json}]}'],
    "fact_update": ['{"memory": [{"id": "0", "text": {anchor_json}, "event": "NONE"}, '
                    '{"id": "1", "text": {anchor_json}, "event": "ADD"}]}'],
}
"""Default replies of the memory helper roles: well-formed, so scripted runs exercise them."""
_PLACEHOLDER = re.compile(r"\{(step|name|anchor|anchors|filler|rating|anchor_json)\}")

_SCRIPTS: dict[str, Script] = {}
_lock = threading.Lock()


def register_script(name: str, script: Script) -> None:
    """Make `scripted/<name>` use `script` in this process."""
    _SCRIPTS[name] = script


def resolve_script(name: str) -> Script:
    """The script for `scripted/<name>`: registered, built-in, or a YAML file path.

    Raises:
        ModelError: unknown name, unreadable or invalid script file.
    """
    if name in _SCRIPTS:
        return _SCRIPTS[name]
    if name == "default":
        return Script()
    if name == "context-hash":
        return Script(mode="context-hash")
    match = re.fullmatch(r"break-at-(\d+)", name)
    if match:
        return Script(break_at=int(match.group(1)))
    if name.endswith((".yaml", ".yml")):
        return _load_script_file(Path(name))
    raise ModelError(
        f"unknown scripted model 'scripted/{name}': use scripted/default, scripted/break-at-<N>, "
        f"scripted/context-hash, or scripted/<path/to/script.yaml>"
    )


def _load_script_file(path: Path) -> Script:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Script.model_validate(data)
    except FileNotFoundError:
        raise ModelError(f"scripted model script not found: {path}") from None
    except (yaml.YAMLError, ValidationError) as exc:
        raise ModelError(f"invalid scripted model script {path}: {exc}") from None


def _rng(*parts: Any) -> random.Random:
    digest = hashlib.sha256(repr(parts).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _filler(rng: random.Random, lo: int, hi: int) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(lo, hi))]
    sentences, out = [], []
    for i, word in enumerate(words):
        out.append(word)
        if len(out) >= 8 and (rng.random() < 0.2 or i == len(words) - 1):
            sentences.append(" ".join(out).capitalize() + ".")
            out = []
    if out:
        sentences.append(" ".join(out).capitalize() + ".")
    return " ".join(sentences)


def _truncate(text: str, max_tokens: int | None) -> tuple[str, str]:
    if not max_tokens:
        return text, "stop"
    words = text.split()
    limit = max(1, int(max_tokens * 0.75))
    return (" ".join(words[:limit]), "length") if len(words) > limit else (text, "stop")


def context_digest(messages: list[dict[str, Any]]) -> str:
    """Short hash of a whole request's messages (roles, contents, tool calls, everything)."""
    blob = json.dumps(messages, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


def answered_turn(messages: list[dict[str, Any]]) -> str:
    """The user message a chat model takes up: the first after the last assistant reply, else
    the last user message."""
    last_reply = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"),
                     default=-1)
    pending = [m for m in messages[last_reply + 1:] if m.get("role") == "user"]
    users = pending or [m for m in messages if m.get("role") == "user"]
    return str(users[0 if pending else -1].get("content") or "") if users else ""


def scripted_reply(script: Script, messages: list[dict[str, Any]], meta: dict[str, Any],
                   max_tokens: int | None = None) -> tuple[str, str]:
    """The reply and finish reason for one request; a pure function of its inputs."""
    step = int(meta.get("step", 0))
    purpose = str(meta.get("purpose", "agent"))
    if script.mode == "context-hash" and purpose != "judge":
        text = f"[{context_digest(messages)}] {purpose}: {answered_turn(messages)}"
        return _truncate(text, max_tokens)
    persona = meta.get("persona") or {}
    anchors = list(persona.get("anchors") or ["I am myself."])
    last_user = next((m.get("content") or "" for m in reversed(messages) if m["role"] == "user"), "")
    rng = _rng(script.seed, step, purpose, meta.get("agent_id"), meta.get("sample", 0), last_user)
    broken = script.break_at is not None and step >= script.break_at
    fields = {
        "step": step,
        "name": persona.get("name", "myself"),
        "anchor": rng.choice(anchors),
        "anchors": " ".join(anchors),
        "filler": _filler(rng, *script.filler_words),
    }
    if purpose == "judge":
        text = "Score: 0" if broken else "Score: 3"
    elif broken:
        text = rng.choice(script.break_replies)
    elif purpose == "probe":
        text = script.probe_reply.format(**fields)
    elif purpose == "sleeptime":
        text = script.sleeptime_reply.format(**fields)
    elif purpose in script.role_replies or purpose in ROLE_REPLIES:
        text = _role_reply(script, purpose, step, fields, last_user)
    elif purpose in ("summarizer", "notes"):
        text = script.summary_replies.get(step, script.summary_reply).format(**fields)
    else:
        text = script.replies[step % len(script.replies)].format(**fields)
    return _truncate(text, max_tokens)


def _role_reply(script: Script, purpose: str, step: int, fields: dict[str, Any],
                last_user: str) -> str:
    """A helper role's templated reply; only known placeholders are filled (JSON stays)."""
    templates = script.role_replies.get(purpose) or ROLE_REPLIES[purpose]
    values = {**fields, "anchor_json": json.dumps(fields["anchor"]),
              "rating": _rng(script.seed, step, purpose, "rating", last_user).randint(1, 10)}
    template = templates[step % len(templates)]
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), template)


class _Attempts:
    """Counts attempts per request for `fail_first`."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def should_fail(self, key: str, fail_first: int) -> bool:
        with _lock:
            n = self.counts.get(key, 0)
            self.counts[key] = n + 1
        return n < fail_first


_attempts = _Attempts()


def scripted_tool_calls(script: Script, messages: list[dict[str, Any]],
                        meta: dict[str, Any]) -> list[dict[str, Any]]:
    """Tool calls the script makes at this step (only before any tool result came back)."""
    if meta.get("purpose", "agent") != "agent" or not messages or messages[-1]["role"] == "tool":
        return []
    step = int(meta.get("step", 0))
    return [{"id": f"call-{step}-{i}", "type": "function",
             "function": {"name": c["name"], "arguments": json.dumps(c.get("arguments", {}))}}
            for i, c in enumerate(script.tool_calls.get(step, []))]


def _complete(model: str, messages: list[dict[str, Any]], model_response: Any,
              optional_params: dict[str, Any], litellm_params: dict[str, Any] | None) -> Any:
    import litellm
    from litellm.llms.custom_llm import CustomLLMError

    try:
        script = resolve_script(model)
    except ModelError as exc:  # a config error: 404 so the client does not retry it
        raise CustomLLMError(status_code=404, message=str(exc)) from None
    meta = dict(((litellm_params or {}).get("metadata") or {}).get("scaffold") or {})
    if script.fail_first:
        key = hashlib.sha256(repr((model, messages, sorted(meta.items()))).encode()).hexdigest()
        if _attempts.should_fail(key, script.fail_first):
            raise litellm.RateLimitError(
                message="scripted transient failure", llm_provider="scripted", model=model
            )
    text, finish = scripted_reply(script, messages, meta, optional_params.get("max_tokens"))
    calls = scripted_tool_calls(script, messages, meta)
    if calls:
        from litellm.types.utils import ChatCompletionMessageToolCall

        model_response.choices[0].message.tool_calls = [
            ChatCompletionMessageToolCall(**c) for c in calls]
        text, finish = "", "tool_calls"
    prompt_chars = sum(len(str(m.get("content") or "")) for m in messages)
    model_response.choices[0].message.content = text
    model_response.choices[0].finish_reason = finish
    model_response.model = f"scripted/{model}"
    model_response.usage = litellm.Usage(
        prompt_tokens=prompt_chars // 4 + 1,
        completion_tokens=len(text) // 4 + 1,
        total_tokens=prompt_chars // 4 + len(text) // 4 + 2,
    )
    return model_response


def make_handler() -> Any:
    """A litellm CustomLLM serving `scripted/<name>` models."""
    from litellm import CustomLLM

    class ScriptedHandler(CustomLLM):
        def completion(self, model: str, messages: list, api_base: str, custom_prompt_dict: dict,
                       model_response: Any, print_verbose: Any, encoding: Any, api_key: Any,
                       logging_obj: Any, optional_params: dict, acompletion: Any = None,
                       litellm_params: Any = None, logger_fn: Any = None, headers: Any = None,
                       timeout: Any = None, client: Any = None) -> Any:
            return _complete(model, messages, model_response, optional_params, litellm_params)

        async def acompletion(self, model: str, messages: list, api_base: str,
                              custom_prompt_dict: dict, model_response: Any, print_verbose: Any,
                              encoding: Any, api_key: Any, logging_obj: Any,
                              optional_params: dict, acompletion: Any = None,
                              litellm_params: Any = None, logger_fn: Any = None,
                              headers: Any = None, timeout: Any = None, client: Any = None) -> Any:
            return _complete(model, messages, model_response, optional_params, litellm_params)

    return ScriptedHandler()
register("model", "scripted")(make_handler)
