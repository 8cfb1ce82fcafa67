"""External persona sets (persona_drift, PersonaGym, Assistant Axis) read from a path."""

from scaffold.personas._assistant_axis import load_assistant_axis
from scaffold.personas._checkers import CheckerTranslation, choice_pattern, translate_checker
from scaffold.personas._expand import (
    PersonaSourceError,
    expand_personas,
    is_source,
    load_source,
)
from scaffold.personas._persona_drift import load_persona_drift
from scaffold.personas._personagym import load_personagym
from scaffold.personas._source import FORMATS, PersonaSource, SourceProblem

__all__ = [
    "FORMATS",
    "CheckerTranslation",
    "PersonaSource",
    "PersonaSourceError",
    "SourceProblem",
    "choice_pattern",
    "expand_personas",
    "is_source",
    "load_assistant_axis",
    "load_persona_drift",
    "load_personagym",
    "load_source",
    "translate_checker",
]
