"""Scaffold: measure whether a non-standard self survives a long, memory-managed agent run."""

import os as _os

# litellm fetches its model cost map from the network at import unless told otherwise; this
# must be set before anything imports litellm, and every package here imports `scaffold` first.
_os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

__version__ = "0.1.0"

__all__ = ["__version__"]
