"""Errors a user can act on: each carries a message meant to be shown as it is."""


class ScaffoldError(Exception):
    """Base for errors shown to the user without a traceback."""


class ConfigError(ScaffoldError):
    """An experiment file is missing, unreadable, or invalid.

    Attributes:
        problems: one line per problem, each starting with the field path.
    """

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: invalid config\n" + "\n".join(f"  {p}" for p in problems))


class PluginNotFound(ScaffoldError):
    """A (kind, name) pair has no registered plugin."""


class PluginLoadError(ScaffoldError):
    """A plugin was found but failed to import or build."""


class ModelError(ScaffoldError):
    """A model call failed for good (after retries), or a model could not be loaded."""


class CassetteMiss(ModelError):
    """A replayed run asked for a request its cassette does not hold."""


class RunDirError(ScaffoldError):
    """A run directory is missing, corrupt, or in a state that forbids the operation."""
