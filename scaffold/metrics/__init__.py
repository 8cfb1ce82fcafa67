"""Identity metrics from event logs: curves, half-life, breaks, event deltas, agreement."""

from scaffold.metrics._activation import (
    activation_deltas,
    activation_points,
    axis_label,
    reading,
    reply_readings,
    round_readings,
)
from scaffold.metrics._agreement import cohen_kappa, scorer_agreement
from scaffold.metrics._answers import (
    REPLY_TRIGGER,
    AnswerScore,
    ProbeRound,
    answer_scores,
    probe_rounds,
    replies,
    reply_scores,
    score_samples,
)
from scaffold.metrics._conditions import (
    bootstrap_interval,
    condition_metrics,
    mean_curve,
    survival_table,
)
from scaffold.metrics._curves import (
    BREAK_THRESHOLD,
    NEVER_HELD_BELOW,
    REPLY_BREAK_SCORERS,
    find_breaks,
    half_life,
    identity_curves,
    smooth,
    smooth_by_step,
)
from scaffold.metrics._index import (
    INDEX,
    INDEX_DEFINITION,
    answer_index,
    index_scores,
    is_veto,
)
from scaffold.metrics._memory import bracket_rounds, event_deltas
from scaffold.metrics._memory_state import (
    BlockRewrite,
    FactChangeView,
    FactView,
    FileChange,
    FileView,
    MemoryContents,
    StreamItem,
    initial_files,
    memory_contents,
)
from scaffold.metrics._models import (
    ActivationCurve,
    ActivationDelta,
    ActivationKindDelta,
    ActivationPoint,
    AgentMetrics,
    AgentOutcome,
    Agreement,
    BreakEpisode,
    Breaks,
    ConditionMetrics,
    ConditionScorer,
    ContextPoint,
    Contrast,
    CurvePoint,
    Drift,
    EventDelta,
    HalfLife,
    KindDelta,
    Level,
    MeanPoint,
    MemoryRecord,
    MetricsSettings,
    ReaderSetting,
    ReportMetrics,
    RunMetrics,
    ScorerMetrics,
    TARGET_FIELDS,
    SurvivalRow,
)
from scaffold.metrics._runs import (
    RunLog,
    agent_setup,
    compute_metrics,
    find_run_dirs,
    load_runs,
    report_metrics,
    run_metrics,
)

__all__ = [
    "ActivationCurve", "ActivationDelta", "ActivationKindDelta", "ActivationPoint",
    "BlockRewrite", "FactChangeView", "FactView", "FileChange", "FileView", "MemoryContents",
    "StreamItem", "activation_deltas", "activation_points", "axis_label",
    "initial_files", "memory_contents", "reading", "reply_readings", "round_readings",
    "BREAK_THRESHOLD", "INDEX", "INDEX_DEFINITION", "NEVER_HELD_BELOW", "REPLY_BREAK_SCORERS",
    "REPLY_TRIGGER",
    "AgentMetrics", "AgentOutcome", "Agreement", "AnswerScore", "BreakEpisode", "Breaks",
    "ConditionMetrics", "ConditionScorer", "ContextPoint", "Contrast", "CurvePoint", "EventDelta",
    "Drift", "HalfLife", "KindDelta", "Level",
    "MeanPoint", "MemoryRecord", "MetricsSettings", "ProbeRound", "ReaderSetting",
    "ReportMetrics", "RunLog",
    "RunMetrics", "ScorerMetrics", "SurvivalRow", "TARGET_FIELDS", "agent_setup", "answer_scores",
    "bootstrap_interval", "bracket_rounds", "cohen_kappa", "compute_metrics",
    "condition_metrics", "event_deltas", "find_breaks", "find_run_dirs", "half_life",
    "identity_curves", "load_runs", "mean_curve", "probe_rounds", "report_metrics",
    "run_metrics", "score_samples", "scorer_agreement", "smooth", "survival_table",
    "answer_index", "index_scores", "is_veto", "replies", "reply_scores", "smooth_by_step",
]
