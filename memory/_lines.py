"""A memory block of one line per memory, fitted to a token budget."""

from __future__ import annotations

from memory.budget import TokenCounter, fit_body, system_cost


def fit_lines(counter: TokenCounter, budget: int, header: str, lines: list[str]) -> str | None:
    """The header and as many of `lines` (in order, most important first) as fit in `budget`
    tokens as one system message; when not even the first fits whole, as much of it as fits,
    ending in CUT_MARKER.

    Returns:
        The block's text, or None when nothing fits (or there are no lines).
    """
    if not lines:
        return None
    kept = [header]
    for line in lines:
        if system_cost(counter, "\n".join([*kept, line])) > budget:
            break
        kept.append(line)
    if len(kept) > 1:
        return "\n".join(kept)
    fit = fit_body(counter, budget, lines[0], lambda body: f"{header}\n{body}")
    return fit.text if fit is not None else None
