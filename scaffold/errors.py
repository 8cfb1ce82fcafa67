"""Errors a user can act on: each carries a message meant to be shown as it is."""


class ScaffoldError(Exception):
    """Base for errors shown to the user without a traceback."""


class ConfigError(ScaffoldError):
    """An experiment file is missing, unreadable, or invalid.

    Attributes:
        problems: one line per problem, each starting with the field path.
    """

    SHOWN = 20
    """Problems the message lists; the rest are counted (`problems` keeps all of them)."""
    WIDEST = 1000
    """Characters shown of one problem (a key a megabyte long is cut, not printed)."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        lines = [f"  {p[: self.WIDEST]}" + (" ..." if len(p) > self.WIDEST else "")
                 for p in problems[: self.SHOWN]]
        if len(problems) > self.SHOWN:
            rest = len(problems) - self.SHOWN
            lines.append(f"  ... and {rest} more error{'s' if rest > 1 else ''}")
        super().__init__(f"{source}: invalid config\n" + "\n".join(lines))


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
