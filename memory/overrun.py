"""BudgetGuard: a context that memory left over budget, reported as a failed memory event."""

from __future__ import annotations

import logging
import math
from typing import Any

from memory._contract import MemoryRecord

log = logging.getLogger(__name__)

KIND = "budget"
"""The kind of memory event that says the context stays over its budget."""
BACKEND = "stack"
"""The `backend` of those events: the whole stack, not one backend, failed to fit."""


class BudgetGuard:
    """Checks the model input after every backend acted. When it is still over the budget,
    memory could not bring it within (every overflow backend acts below the budget), and the
    model is about to see more than the condition allows: that is reported once when it
    happens, and again each time the overrun doubles (2x, 4x, ... the budget), so a context
    growing without bound is never silent and a steady overrun is not reported every step.
    """

    def __init__(self) -> None:
        self.level = 0
        """0 while within budget; k once the context reached 2^(k-1) times the budget."""

    def check(self, agent_id: str, total: int, budget: int, sections: dict[str, int],
              causes: list[str]) -> MemoryRecord | None:
        """A failed `budget` record when the context is over budget and more so than last
        reported, else None.

        Args:
            agent_id: the agent (named in the warning).
            total: tokens of the model input after memory acted.
            budget: the context budget.
            sections: tokens per context section.
            causes: what keeps the context large, as far as the stack can tell.
        """
        if total <= budget:
            self.level = 0
            return None
        level = 1 + int(math.log2(total / budget))
        if level <= self.level:
            return None
        self.level = level
        parts = ", ".join(f"{name} {n}" for name, n in
                          sorted(sections.items(), key=lambda kv: -kv[1]) if n > 0)
        reason = (f"context {total} tokens after memory acted, {total / budget:.1f}x the budget "
                  f"of {budget} ({parts})" + (f": {'; '.join(causes)}" if causes else ""))
        log.warning("%s: %s. The model sees more than the condition allows; raise budget_tokens "
                    "or let memory remove more (lower keep_last, shorter identity).", agent_id,
                    reason)
        return MemoryRecord(kind=KIND, backend=BACKEND, status="failed", reason=reason,
                            tokens_before=total, tokens_after=total, author="system",
                            detail={"budget": budget, "sections": dict(sections),
                                    "ratio": round(total / budget, 3), "causes": list(causes)})

    def snapshot(self) -> dict[str, Any]:
        """What was reported, so a resumed run does not report it again."""
        return {"level": self.level}

    def restore(self, data: dict[str, Any]) -> None:
        """Load a snapshot (an empty one: nothing reported yet)."""
        self.level = int(data.get("level", 0)) if isinstance(data, dict) else 0


def overrun_causes(backends: list[Any], window_size: int, sections: dict[str, int],
                   budget: int) -> list[str]:
    """What keeps a context over budget, as far as the stack's parts tell: kept messages,
    an identity or block larger than the budget, no backend that removes messages."""
    causes = []
    keepers = [(b.name, b.keep_last) for b in backends if isinstance(getattr(b, "keep_last", None),
                                                                     int)]
    if not keepers:
        causes.append("no backend in this condition removes messages from the context")
    for name, keep_last in keepers:
        if window_size <= keep_last:
            causes.append(f"{name} keep_last={keep_last} keeps all {window_size} messages")
    for section in ("persona", "core"):
        if sections.get(section, 0) > budget:
            causes.append(f"the {section} section alone is {sections[section]} tokens")
    return causes
