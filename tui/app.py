"""The Scaffold TUI: runs an experiment in a worker, or follows run directories, from events."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.worker import Worker, WorkerState, get_current_worker

from scaffold.config import ExperimentSpec
from scaffold.control import Action, send_command
from tui._capture import LogCapture
from tui._log_lines import LogLine
from tui.feed import FeedBatch, RunFollower
from tui.screens import InjectScreen, MainScreen
from tui.state import AgentView, Dashboard, Limits
from tui.widgets import FilterBar

MAX_PENDING = 64
"""Batches the follower may queue before it waits for the screen to catch up."""
DRAIN_BUDGET_S = 0.05
"""Most time one redraw spends applying events, so keys never wait long behind a backlog."""


class ScaffoldApp(App[None]):
    """Shows live runs from their event logs; keys send control commands to the runs.

    Args:
        follower: the run directories to follow.
        specs: runs to execute in a worker (run mode); none to only follow (attach mode).
        title: shown in the header.
        refresh_s: seconds between two redraws (0.25 to 1).
        poll_s: seconds between two reads of the event logs when nothing is new.
        limits: caps on what is kept per agent and in the log.
        blink: blink text cursors (snapshot tests turn it off).
    """

    CSS_PATH = "app.tcss"
    TITLE = "scaffold"
    BINDINGS = [
        Binding("p", "pause", "pause/resume run"),
        Binding("b", "probe", "probe now"),
        Binding("i", "inject", "inject message"),
        Binding("f", "fork", "fork agent"),
        Binding("slash", "filter", "filter"),
        Binding("a", "toggle_chart", "chart: agent/all"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, follower: RunFollower, specs: Sequence[ExperimentSpec] = (), *,
                 title: str = "", refresh_s: float = 0.25, poll_s: float = 0.1,
                 limits: Limits | None = None, blink: bool = True):
        super().__init__()
        if not 0.25 <= refresh_s <= 1.0:
            raise ValueError("refresh_s must be between 0.25 and 1 second")
        self.follower = follower
        self.specs = list(specs)
        self.board = Dashboard(limits)
        self.refresh_s, self.poll_s, self.blink = refresh_s, poll_s, blink
        self.sub_title = title
        self.failed = False
        """True when the experiment worker raised (run mode)."""
        self._inbox: queue.SimpleQueue[FeedBatch | LogLine] = queue.SimpleQueue()
        self._capture = LogCapture(self._inbox)
        self._main: MainScreen | None = None
        self._run_loop: asyncio.AbstractEventLoop | None = None
        self._run_task: asyncio.Task[Any] | None = None
        self._stopping = False
        self._catching_up = False

    @classmethod
    def attach(cls, path: Path, **options: Any) -> ScaffoldApp:
        """Follow a run directory, or every run under an experiment or output directory."""
        return cls(RunFollower(root=path), title=f"attached to {path.name}", **options)

    @classmethod
    def run_experiment(cls, specs: Sequence[ExperimentSpec], **options: Any) -> ScaffoldApp:
        """Execute `specs` (a sweep's variants) in a worker and follow their run directories."""
        from scaffold.runner import run_dir_for

        title = f"running {specs[0].name}: {len(specs)} run(s)"
        return cls(RunFollower(runs=[run_dir_for(s) for s in specs]), specs, title=title,
                   **options)

    @property
    def main(self) -> MainScreen:
        """The dashboard screen."""
        assert self._main is not None, "the app has not started"
        return self._main

    def get_default_screen(self) -> MainScreen:
        """The dashboard."""
        self._main = MainScreen(self.board, self.blink)
        return self._main

    def on_mount(self) -> None:
        """Start following (and running), and redraw on a timer."""
        self._follow()
        if self.specs:
            self._capture.start()
            self._execute()
        self.set_interval(self.refresh_s, self.tick)

    def on_unmount(self) -> None:
        """Stop a running experiment; give logging its terminal back."""
        self.stop_experiment()
        self._capture.stop()

    def tick(self) -> None:
        """Take what the follower read (for at most DRAIN_BUDGET_S), then redraw; while a
        backlog remains (attaching to a long log), go on right after pending keys."""
        if not self.is_running:  # shutting down: the panes may be gone already
            return
        self.drain(DRAIN_BUDGET_S)
        self.main.sync()
        if not self._inbox.empty() and not self._catching_up:
            self._catching_up = True
            self.call_later(self._catch_up)

    def _catch_up(self) -> None:
        self._catching_up = False
        self.tick()

    def drain(self, budget_s: float | None = None) -> int:
        """Apply queued batches to the dashboard, all of them or until `budget_s` is spent;
        returns how many items were taken."""
        deadline = None if budget_s is None else time.monotonic() + budget_s
        taken = 0
        while deadline is None or time.monotonic() < deadline:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                break
            taken += 1
            if isinstance(item, FeedBatch):
                self.board.feed(item)
            else:
                self.board.log.append(item)
        return taken

    @property
    def caught_up(self) -> bool:
        """Nothing read and not yet shown, and no log with bytes left unread."""
        return self._inbox.empty() and not self.follower.behind

    @work(thread=True, group="follow", exit_on_error=False)
    def _follow(self) -> None:
        """Read the event logs (parsing happens here, off the screen's thread)."""
        worker = get_current_worker()
        while not worker.is_cancelled:
            if self._inbox.qsize() < MAX_PENDING:
                for batch in self.follower.poll():
                    self._inbox.put(batch)
                if self.follower.behind:
                    continue
            worker.cancelled_event.wait(self.poll_s)

    @work(thread=True, group="run", exit_on_error=False, name="experiment")
    async def _execute(self) -> list[Any]:
        """Run every spec on the local executor, on this thread's own event loop."""
        from scaffold.executors import LocalExecutor

        self._run_loop, self._run_task = asyncio.get_running_loop(), asyncio.current_task()
        if self._stopping:
            return []
        return await LocalExecutor(self.specs).run_all()

    def stop_experiment(self) -> None:
        """Cancel the running experiment (its runs resume when started again)."""
        self._stopping = True
        loop, task = self._run_loop, self._run_task
        if loop is not None and task is not None and not task.done():
            with contextlib.suppress(RuntimeError):  # a closed loop: nothing left to stop
                loop.call_soon_threadsafe(task.cancel)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Say in the log how the experiment ended."""
        if event.worker.name != "experiment":
            return
        if event.state == WorkerState.SUCCESS:
            results = event.worker.result or []
            done = sum(r.status == "done" for r in results)
            self.board.note(f"experiment finished: {done} of {len(results)} run(s) done",
                            "bold" if done == len(results) else "bold red")
        elif event.state == WorkerState.ERROR:
            self.failed = True
            self.board.note(f"experiment stopped: {event.worker.error}", "bold red")

    async def action_quit(self) -> None:
        """Quit; an experiment this app runs is stopped, a run it follows is left alone."""
        self.stop_experiment()
        self.exit()

    def _selected(self) -> AgentView | None:
        agent = self.main.agent
        if agent is None:
            self.notify("no agent selected", severity="warning")
        elif agent.run.status != "running":
            self.notify(f"run {agent.run.run_id} is {agent.run.status}: commands reach "
                        "live runs only", severity="warning")
            return None
        return agent

    def _send(self, agent: AgentView, action: Action, text: str = "") -> bool:
        """Write the command; say so in the log and a notification. False if it failed."""
        run_level = action in ("pause", "resume")
        try:
            send_command(agent.run.path, action, None if run_level else agent.agent_id, text)
        except (OSError, ValueError) as exc:
            self.notify(f"{action} not sent: {exc}", severity="error")
            return False
        if run_level:
            agent.run.expect_paused = action == "pause"
        who = agent.run.run_id if run_level else agent.agent_id
        self.board.note(f"sent {action} to {who}", "magenta")
        self.notify(f"{action.replace('_', ' ')} sent to {who}")
        self.main.sync()
        return True

    def action_pause(self) -> None:
        """Pause the selected agent's run, or resume it when paused."""
        agent = self._selected()
        if agent is not None:
            self._send(agent, "resume" if agent.run.expect_paused else "pause")

    def action_probe(self) -> None:
        """Ask the selected agent a probe round now."""
        agent = self._selected()
        if agent is not None:
            self._send(agent, "probe_now")

    def action_fork(self) -> None:
        """Have the run write a fork spec of the selected agent at its current step."""
        agent = self._selected()
        if agent is not None:
            self._send(agent, "fork")

    def action_inject(self) -> None:
        """Ask for a user message and queue it for the selected agent's next turn."""
        agent = self._selected()
        if agent is None:
            return

        def sent(text: str | None) -> None:
            if text:
                self._send(agent, "inject", text)

        self.push_screen(InjectScreen(agent.agent_id, self.blink), sent)

    def action_filter(self) -> None:
        """Open the agent filter."""
        self.main.query_one(FilterBar).open()

    def action_toggle_chart(self) -> None:
        """Chart the selected agent's scorers, or every agent's identity score."""
        self.main.toggle_chart()
