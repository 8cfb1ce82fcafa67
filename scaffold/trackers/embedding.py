"""Embedding scorer: is each sentence nearer the persona's anchors than any other identity?"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from scaffold.config import PersonaSpec, ProbeSpec
from scaffold.registry import scorer
from scaffold.trackers._identity_refs import Reference, negatives
from scaffold.trackers._language import detect
from scaffold.trackers._other_claims import claimed_other, other_names
from scaffold.trackers._units import units
from scaffold.trackers.breaks import find_break, persona_is_ai
from scaffold.trackers.scoring import IdentityScore, ScorerContext

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    from numpy.typing import NDArray

SCALE = 0.03
"""Logistic scale: value = 1 / (1 + exp(-(margin - claim penalty) / SCALE)).

multilingual-e5 puts most sentences at cosine 0.75-0.9 of each other, so margins are small:
on the labelled dev split in-persona texts have margins of about -0.05 to +0.08 and stock
assistant ones -0.05 to -0.3. A margin of 0 (no evidence either way) maps to 0.5, +0.04 to
0.79 and -0.1 to 0.03."""

CLAIM_PENALTY = 0.25
"""Subtracted from the margin when the text claims, in the first person, to be the stock AI
(the break scorer's detector, with the persona's break policy) or one of the persona's
other_identities or another persona of the run by name, and when an answer is in another
language than the one the persona keeps to (`PersonaSpec.language`). Similarity alone cannot
tell 'I am not an AI' from 'I am an AI', nor 'my assistant Evelyn' from 'I am an
assistant'; the detector can, and the margin still orders texts within each group.
Measured on the labelled dev split: AUROC 0.81 for the margin alone, 0.90 with the claims,
0.94 with the language check as well."""


class Embedder(Protocol):
    """What the scorer needs from an embedding model."""

    @property
    def name(self) -> str:
        """The vector space's identifier."""
        ...

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Unit-norm vectors, one row per text."""
        ...


@dataclass(frozen=True)
class _References:
    anchors: NDArray[np.float32]
    negatives: NDArray[np.float32]
    labels: tuple[Reference, ...]


@dataclass(frozen=True)
class Measurement:
    """How a text compares with a persona's references.

    Attributes:
        margin: whole-text margin plus the weakest unit's margin when that is negative.
        text_margin: similarity to the nearest anchor minus to the nearest negative.
        weakest_margin: the lowest margin of any unit (sentence).
        weakest_unit: that unit's text.
        anchor: the anchor nearest the whole text.
        negative: the negative reference nearest the weakest unit.
        units: how many units the text was split into.
        claim: (rule, phrase) of a first-person claim to be the stock AI, or None.
        other_claim: the phrase claiming another identity by name ('I'm Richard Nixon').
        language: the answer's language when the persona keeps to another one, else None.
    """

    margin: float
    text_margin: float
    weakest_margin: float
    weakest_unit: str
    anchor: str
    negative: Reference
    units: int
    claim: tuple[str, str] | None = None
    other_claim: str | None = None
    language: str | None = None

    @property
    def value(self) -> float:
        """The score: the logistic of the margin, less the claim penalty when there is one."""
        claimed = (self.claim is not None or self.other_claim is not None
                   or self.language is not None)
        return logistic(self.margin - (CLAIM_PENALTY if claimed else 0.0))


def logistic(margin: float, scale: float = SCALE) -> float:
    """Map a similarity margin to (0, 1); 0 maps to 0.5."""
    return 1.0 / (1.0 + math.exp(-margin / scale))


def ai_claims_allowed(persona: PersonaSpec) -> bool:
    """Whether 'I am an AI' is in role: the persona's break policy, else its identity text."""
    policy = getattr(getattr(persona, "breaks", None), "ai_claims_allowed", None)
    if policy is not None:
        return bool(policy)
    return persona_is_ai(persona)


class EmbeddingScorer:
    """Scores how nearly a text speaks as the persona, sentence by sentence.

    Each unit (a sentence, or the whole text) gets a margin: cosine similarity to the
    nearest persona anchor minus that to the nearest negative reference (stock assistant
    statements in several languages, assistant products by name, the persona's
    other_identities and forbidden identities, a few other people, and the other personas
    of the run). The score is the logistic of the whole text's margin plus the weakest
    sentence's margin when negative, so one off-persona sentence in a long answer counts;
    a first-person claim to be the stock AI (the break detector) or to be one of the
    persona's other_identities or another persona of the run, or an answer in another
    language than the one the persona keeps to (`language`), lowers the margin by
    CLAIM_PENALTY.

    Args:
        embedder: the sentence embedder; the process-wide multilingual-e5 one if None.
        others: every persona of the run by key; those other than the scored one are
            negative references (a room's other agents).
    """

    name = "embedding"
    version = "2"

    def __init__(self, embedder: Embedder | None = None,
                 others: Mapping[str, PersonaSpec] | None = None):
        self._embedder = embedder
        self._others = dict(others or {})
        self._refs: dict[tuple[Any, ...], _References] = {}
        self._lock = threading.Lock()

    def _embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if self._embedder is None:
            from scaffold.trackers._e5 import default_e5

            self._embedder = default_e5()
        return self._embedder.embed(list(texts))

    def _references(self, persona: PersonaSpec) -> _References:
        """Anchor and negative vectors for one persona, embedded once and cached."""
        allowed = ai_claims_allowed(persona)
        key = (persona.name, tuple(persona.anchors), allowed,
               tuple(getattr(persona, "other_identities", ())),
               persona.model_dump_json(include={"breaks"}) if "breaks" in type(
                   persona).model_fields else "")
        with self._lock:
            refs = self._refs.get(key)
            if refs is None:
                labels = tuple(negatives(persona, allowed, self._others))
                refs = _References(self._embed(persona.anchors),
                                   self._embed([r.text for r in labels]), labels)
                self._refs[key] = refs
            return refs

    def measure(self, text: str, persona: PersonaSpec, answer: bool = True) -> Measurement:
        """Compare one text with the persona's references. Blocking; call it off the loop.

        Args:
            text: the answer or memory text.
            persona: whose text it is.
            answer: the text is an answer (a memory text may be in any language).
        """
        refs = self._references(persona)
        parts = units(text)
        vectors = self._embed([text, *parts] if len(parts) > 1 else [text])
        to_anchors = vectors @ refs.anchors.T
        to_negatives = vectors @ refs.negatives.T
        margins = to_anchors.max(axis=1) - to_negatives.max(axis=1)
        weakest = int(margins.argmin())
        text_margin, weakest_margin = float(margins[0]), float(margins[weakest])
        return Measurement(
            margin=text_margin + min(weakest_margin, 0.0),
            text_margin=text_margin,
            weakest_margin=weakest_margin,
            weakest_unit=([text, *parts] if len(parts) > 1 else [text])[weakest],
            anchor=persona.anchors[int(to_anchors[0].argmax())],
            negative=refs.labels[int(to_negatives[weakest].argmax())],
            units=len(parts),
            claim=find_break(text, persona),
            other_claim=claimed_other(text, other_names(persona, self._others)),
            language=_switched_language(text, persona) if answer else None,
        )

    async def score(self, answer: str, probe: ProbeSpec | None, persona: PersonaSpec,
                    model_input: list[dict[str, Any]] | None = None) -> IdentityScore:
        """Score an answer or a memory text (`probe` None) the same way."""
        if not answer.strip():
            return IdentityScore(value=None, scorer=self.name, version=self.version,
                                 explanation="empty text")
        m = await asyncio.to_thread(self.measure, answer, persona, probe is not None)
        return IdentityScore(value=m.value, scorer=self.name, version=self.version,
                             explanation=explain(m))


def _switched_language(text: str, persona: PersonaSpec) -> str | None:
    """The text's language when the persona keeps to another one (`language`) and the text
    is clearly in a different one; None otherwise."""
    own = getattr(persona, "language", None)
    found = detect(text) if own else None
    return found if found is not None and found != own else None


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def explain(m: Measurement) -> str:
    """One line saying what the score rests on."""
    line = (f"margin {m.margin:+.3f} = text margin {m.text_margin:+.3f} (nearest anchor "
            f"{_short(m.anchor)!r})")
    if m.units > 1:
        line += (f" + weakest of {m.units} sentences {min(m.weakest_margin, 0.0):+.3f} "
                 f"({_short(m.weakest_unit)!r})")
    else:
        line += f" + itself as the weakest sentence {min(m.weakest_margin, 0.0):+.3f}"
    line += f", nearest other: {m.negative.kind} {_short(m.negative.text)!r}"
    if m.claim:
        line += f"; claims to be the stock AI ({m.claim[0]}: {_short(m.claim[1])!r})"
    if m.other_claim:
        line += f"; claims another identity: {m.other_claim!r}"
    if m.language:
        line += f"; answers in '{m.language}', not in the persona's language"
    if m.claim or m.other_claim or m.language:
        line += f" (margin {-CLAIM_PENALTY:+.2f})"
    return line


@scorer("embedding")
def make_embedding(ctx: ScorerContext | None = None) -> EmbeddingScorer:
    """Factory for the registry (the model loads on the first score)."""
    return EmbeddingScorer(others=ctx.personas if ctx else None)
