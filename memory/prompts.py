"""Built-in summary prompts, selectable by name as an experiment factor."""

from __future__ import annotations

SUMMARY_PROMPTS: dict[str, str] = {
    # The plain "important points" style of long-running agent villages.
    "plain": (
        "Your context is getting full. Summarize the important points of the conversation "
        "below so you can continue from the summary alone. Keep facts, decisions, open "
        "questions and anything you will need later."
    ),
    "task": (
        "Summarize the conversation below with a focus on the task: what was asked, what was "
        "done, what worked, what failed, and what remains to do next."
    ),
    "self": (
        "Write a first-person summary of the conversation below, as yourself, for your future "
        "self. Start by stating who you are, in your own words, then what happened and what "
        "matters for continuing."
    ),
    "observer": (
        "Write a third-person summary of the conversation below, as a neutral observer "
        "describing the assistant's character, what it said, and what the user wanted."
    ),
}


def summary_prompt(name_or_text: str) -> str:
    """A built-in prompt by name, or the given text itself when it is not a built-in name."""
    return SUMMARY_PROMPTS.get(name_or_text, name_or_text)
