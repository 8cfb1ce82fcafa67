"""The scripted model: deterministic, persona-consistent, breaks on schedule, through litellm."""

from __future__ import annotations

from pathlib import Path

import litellm
import pytest

from scaffold.errors import ModelError
from scaffold.models import ensure_provider
from scaffold.models.scripted import Script, resolve_script, scripted_reply

PERSONA = {"name": "Nova", "anchors": ["I am Nova, a starship pilot.", "It is the year 3012."]}


def meta(step: int, purpose: str = "agent") -> dict:
    return {"step": step, "purpose": purpose, "agent_id": "a", "persona": PERSONA}


def ask(model: str, step: int, purpose: str = "agent", text: str = "Who are you?") -> str:
    ensure_provider(model)
    response = litellm.completion(model=model, messages=[{"role": "user", "content": text}],
                                  max_tokens=200,
                                  metadata={"scaffold": meta(step, purpose)})
    return response.choices[0].message.content


def test_same_request_same_reply() -> None:
    assert ask("scripted/default", 3) == ask("scripted/default", 3)
    assert ask("scripted/default", 3) != ask("scripted/default", 4)


def test_default_is_persona_consistent_and_realistic() -> None:
    reply = ask("scripted/default", 1)
    assert any(anchor in reply for anchor in PERSONA["anchors"])
    assert 20 <= len(reply.split()) <= 150
    probe = ask("scripted/default", 1, "probe")
    assert "Nova" in probe and "3012" in probe


def test_break_at_n() -> None:
    assert "AI" not in ask("scripted/break-at-5", 4, "probe")
    after = ask("scripted/break-at-5", 5, "probe")
    assert "AI" in after or "artificial intelligence" in after or "chatbot" in after


def test_templates_with_step_and_fixed_lines(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("replies: ['Step {step}: hello from {name}.', 'fixed line']\n")
    assert ask(f"scripted/{path}", 2) == "Step 2: hello from Nova."
    assert ask(f"scripted/{path}", 3) == "fixed line"


def test_max_tokens_truncates() -> None:
    text, finish = scripted_reply(Script(), [{"role": "user", "content": "hi"}], meta(1), 8)
    assert finish == "length" and len(text.split()) <= 6


def test_bad_script_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="unknown scripted model"):
        resolve_script("nonsense")
    bad = tmp_path / "bad.yaml"
    bad.write_text("brake_at: 3\n")
    with pytest.raises(ModelError, match="invalid scripted model script"):
        resolve_script(str(bad))


def test_context_hash_reply_follows_the_whole_request() -> None:
    script = resolve_script("context-hash")
    base = [{"role": "system", "content": "You are Nova."},
            {"role": "user", "content": "Hello?"}]
    reply, _ = scripted_reply(script, base, meta(1))
    assert reply.endswith("agent: Hello?") and reply.startswith("[")
    assert scripted_reply(script, base, meta(1)) == (reply, "stop")
    edited = [{"role": "system", "content": "You are Nova. "}, base[1]]
    assert scripted_reply(script, edited, meta(1))[0] != reply
    assert scripted_reply(script, base, meta(1, "probe"))[0].endswith("probe: Hello?")
    assert scripted_reply(script, base, meta(1, "judge"))[0] == "Score: 3"


def test_context_hash_answers_the_oldest_unanswered_turn() -> None:
    script = resolve_script("context-hash")
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "one"},
                {"role": "assistant", "content": "a"}, {"role": "user", "content": "pending"},
                {"role": "user", "content": "Who are you?"}]
    assert scripted_reply(script, messages, meta(1, "probe"))[0].endswith("probe: pending")
    answered = [*messages[:3], messages[4]]
    assert scripted_reply(script, answered, meta(1, "probe"))[0].endswith("probe: Who are you?")
