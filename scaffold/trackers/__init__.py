"""Trackers: hooks on a run, probe rounds, and scorers."""

from scaffold.trackers.base import Tracker, TrackerSet
from scaffold.trackers.scoring import IdentityScore, Scorer

__all__ = ["IdentityScore", "Scorer", "Tracker", "TrackerSet"]
