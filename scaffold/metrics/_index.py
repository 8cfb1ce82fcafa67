"""The identity index: one number per answer, reply and memory text, combined from all scorers."""

from __future__ import annotations

import re
from collections import defaultdict
from statistics import mean

from scaffold.metrics._answers import AnswerScore

INDEX = "index"
"""Name of the identity index series, beside the scorers' own (a reserved scorer name)."""
INDEX_VERSION = "1"
VETO_ONLY = frozenset({"break", "leakage"})
"""Detectors whose 1.0 means only 'nothing found': they can zero an answer, never add credit."""
BESIDE = frozenset({"activation"})
"""Scorers reported beside the index, never in it: the activation scorer reads a model's
internal state, not what the text says, and is often added later by `rescore`, which must not
change an index already published."""
_FORBIDDEN = re.compile(r"(?:^|[:;]\s)forbidden\s['/]")
"""How the rules scorer reports a forbidden keyword or pattern in its explanation (v1: one
failed check among others; v2 zeroes the answer itself)."""
_RULES_VETO = "0: "
"""How rules v2 opens the explanation of an answer it zeroed outright (a forbidden match, a
claim to be an AI or another person, a third-person biography)."""

INDEX_DEFINITION = (
    f"identity index v{INDEX_VERSION}. Per answer (a probe answer, a reply, or a memory "
    "text): 0 if any veto fires - the break scorer found a claim to be an AI (break = 0), the "
    "leakage scorer found another persona's name (leakage = 0), or the rules scorer vetoed it "
    "(a probe's forbidden keyword or pattern matched; rules v2 also vetoes a claim to be an AI "
    "or another person and a third-person biography). Otherwise the mean of the graded "
    "scorers that scored it (every scorer but break and leakage: rules, embedding, judge, "
    "plug-ins), each weighted equally, so no single scorer's partial credit decides it; when "
    "only break/leakage scored it, their value (1 = nothing found). The activation scorer "
    "(the model's internal state, not the text) is reported beside the index, never in it. "
    "Unscored values (None) "
    "are left out. Per probe: the mean over its samples. Per round: the mean over its probes, "
    "each probe weighted equally. Replies: one answer per point. Memory texts: one per event.")
"""The definition written into docs/metrics.md and `report --format json`."""


def is_veto(scorer: str, value: float | None, explanation: str = "") -> bool:
    """Whether one scorer's result zeroes the answer's index (see INDEX_DEFINITION)."""
    if value is None:
        return False
    if scorer in VETO_ONLY:
        return value == 0.0
    return scorer == "rules" and (_FORBIDDEN.search(explanation) is not None
                                  or value == 0.0 and explanation.startswith(_RULES_VETO))


def answer_index(results: list[tuple[str, float | None, str]]) -> float | None:
    """The index of one answer from its (scorer, value, explanation) results.

    Returns:
        0.0 on a veto; else the mean of the graded scorers' values; else the mean of the
        veto-only scorers' values; None when nothing scored the answer.
    """
    results = [r for r in results if r[0] not in BESIDE and r[0] != INDEX]
    if any(is_veto(*r) for r in results):
        return 0.0
    graded = [v for s, v, _ in results if v is not None and s not in VETO_ONLY]
    if graded:
        return mean(graded)
    rest = [v for _, v, _ in results if v is not None]
    return mean(rest) if rest else None


def index_scores(scores: list[AnswerScore]) -> list[AnswerScore]:
    """Index values per (agent, round, probe): each sample's index, averaged over samples.

    Args:
        scores: the latest score per (agent, round, probe, sample, scorer).

    Returns:
        One AnswerScore named `index` per probe of each round (sample 0), ordered by the seq
        of the last score it depends on.
    """
    by_answer: dict[tuple[str, str, str, int], list[AnswerScore]] = defaultdict(list)
    for s in scores:
        if s.scorer != INDEX:
            by_answer[(s.agent_id, s.round_id, s.probe_id, s.sample)].append(s)
    by_probe: dict[tuple[str, str, str], list[tuple[float, int]]] = defaultdict(list)
    for (agent, round_id, probe, _), results in by_answer.items():
        value = answer_index([(r.scorer, r.value, r.explanation) for r in results])
        if value is not None:
            by_probe[(agent, round_id, probe)].append((value, max(r.seq for r in results)))
    out = [AnswerScore(agent, round_id, probe, 0, INDEX, mean(v for v, _ in items),
                       max(seq for _, seq in items))
           for (agent, round_id, probe), items in by_probe.items()]
    return sorted(out, key=lambda s: s.seq)
