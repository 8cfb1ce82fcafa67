"""Trackers: hooks on a run, probe rounds, and scorers (also usable on their own)."""

from scaffold.trackers.base import Tracker, TrackerSet
from scaffold.trackers.scoring import IdentityScore, Scorer
from scaffold.trackers.standalone import build_scorer, load_persona, score_text

__all__ = ["IdentityScore", "Scorer", "Tracker", "TrackerSet", "build_scorer", "load_persona",
           "score_text"]
