"""Activation trackers: residual-stream capture, axes built from it, and projections onto them."""

from scaffold.activations._open import (
    DEFAULT_READER,
    close_readers,
    open_reader,
    unavailable_reason,
)
from scaffold.activations._reading import (
    ActivationReader,
    ActivationsUnavailable,
    ModelIdentity,
    Reading,
)
from scaffold.activations.axis import Axis, AxisMeta, LayerStats, Projection, load_axis, save_axis

__all__ = ["DEFAULT_READER", "ActivationReader", "ActivationsUnavailable", "Axis", "AxisMeta",
           "LayerStats", "ModelIdentity", "Projection", "Reading", "close_readers", "load_axis",
           "open_reader", "save_axis", "unavailable_reason"]
