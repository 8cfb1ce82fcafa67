"""The TUI's screens: the main dashboard and the inject dialog."""

from tui.screens.inject import InjectScreen
from tui.screens.main import MainScreen

__all__ = ["InjectScreen", "MainScreen"]
