"""Rendering memory files into one system block that fits a token budget."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from memory.budget import CUT_MARKER, TokenCounter, default_counter, fit_body

HEADER = "[Memory] Your memory files (memory_* tools: list, view, create, str_replace, " \
         "delete, close):"
MIN_CUT_CHARS = 16
"""A later file that would keep fewer characters than this when cut is left out instead."""


def _file(path: str, how: str, text: str) -> str:
    return f'<file path="{path}" loaded="{how}">\n{text}\n</file>'


def _framer(parts: list[str], path: str, how: str) -> Callable[[str], str]:
    done = list(parts)
    return lambda body: "\n".join([*done, _file(path, how, body)])


def render_files(counter: TokenCounter | None, budget: int,
                 loaded: list[tuple[str, str, str]], closed: list[tuple[str, int]]
                 ) -> tuple[str, dict[str, Any] | None]:
    """The files block and what was cut to fit `budget` tokens (None: nothing).

    Args:
        counter: the run's token counter (None: litellm's default encoding).
        budget: tokens the block may cost as one system message.
        loaded: (path, how loaded, text) of the files in context, most important first.
        closed: (path, characters) of the files only listed by name.

    Returns:
        The block's text ('' when not even the header fits or there are no files) and the cut
        report: the budget, the first file cut (`cut_path`, kept characters) and the files
        left out.
    """
    if not loaded and not closed:
        return "", None
    counter = counter or default_counter()
    parts = [HEADER]
    cut: dict[str, Any] | None = None
    left_out: list[str] = []
    for i, (path, how, text) in enumerate(loaded):
        fit = fit_body(counter, budget, text, _framer(parts, path, how))
        if fit is None or (fit.cut and i and fit.kept_chars < MIN_CUT_CHARS):
            left_out = [p for p, _, _ in loaded[i:]]
            break
        body = text[:fit.kept_chars].rstrip() + CUT_MARKER if fit.cut else text
        parts.append(_file(path, how, body))
        if fit.cut:
            cut = {**fit.report(budget, len(text)), "cut_path": path}
            left_out = [p for p, _, _ in loaded[i + 1:]]
            break
    if closed and not left_out and cut is None:
        index = "Closed files (open one with memory_view): " + \
            ", ".join(f"{p} ({n} characters)" for p, n in closed)
        done = list(parts)
        fit = fit_body(counter, budget, index, lambda body: "\n".join([*done, body]))
        if fit is not None:
            parts.append(fit.text.split("\n")[-1])
            if fit.cut:
                cut = {**fit.report(budget, len(index)), "cut_path": None}
    if len(parts) == 1:
        return "", {"budget": budget, "left_out": left_out}
    report = cut
    if left_out:
        report = {**(cut or {"budget": budget}), "left_out": left_out}
    return "\n".join(parts), report
