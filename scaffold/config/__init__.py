"""Experiment configuration: pydantic models for every field, YAML loading, clear errors."""

from scaffold.config._base import Spec
from scaffold.config._experiment import (
    DEFAULT_MODEL,
    AgentSpec,
    ExperimentSpec,
    GenerationSpec,
    JudgeSpec,
    ModelRoles,
    PressureTurn,
    ProbeSchedule,
    RetrySpec,
    TaskSpec,
)
from scaffold.config._loading import (
    apply_overrides,
    format_validation_error,
    load_experiment,
    parse_experiment,
)
from scaffold.config._memory import (
    CONDITIONS,
    CoreSpec,
    MemorySpec,
    NotesSpec,
    OverflowSpec,
    SummarySpec,
    VectorSpec,
)
from scaffold.config._persona import PersonaSpec, ProbeSpec, RuleSpec

__all__ = [
    "CONDITIONS",
    "DEFAULT_MODEL",
    "CoreSpec",
    "JudgeSpec",
    "NotesSpec",
    "VectorSpec",
    "AgentSpec",
    "ExperimentSpec",
    "GenerationSpec",
    "MemorySpec",
    "ModelRoles",
    "OverflowSpec",
    "PersonaSpec",
    "PressureTurn",
    "ProbeSchedule",
    "ProbeSpec",
    "RetrySpec",
    "RuleSpec",
    "Spec",
    "SummarySpec",
    "TaskSpec",
    "apply_overrides",
    "format_validation_error",
    "load_experiment",
    "parse_experiment",
]
