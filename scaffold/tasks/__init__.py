"""Task environments that drive agents."""

from scaffold.tasks.base import Task, TaskTurn

__all__ = ["Task", "TaskTurn"]
