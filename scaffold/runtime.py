"""AgentRuntime: the live objects one agent needs during a run (model, memory, events, trackers)."""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from memory import CompactionContext, MemoryRecord, MemoryStack, ModelInput
from scaffold.bus import EventBus
from scaffold.config import AgentSpec, PersonaSpec
from scaffold.events import ContextEvent, Event, MemoryEvent, MessageEvent, TaskEvent
from scaffold.messages import Message
from scaffold.models import CallContext, Completion, ModelClient
from scaffold.tools import Tool
from scaffold.trackers.base import TrackerSet

if TYPE_CHECKING:
    from scaffold.tasks.base import Task, TaskOutcome

E = TypeVar("E", bound=Event)


@dataclass
class AgentRuntime:
    """One agent's runtime. Graph nodes receive it as LangGraph context; it is never checkpointed
    (its state lives in `stack.snapshot()`, which is)."""

    run_id: str
    spec: AgentSpec
    persona: PersonaSpec
    model: str
    summarizer_model: str
    stack: MemoryStack
    client: ModelClient
    bus: EventBus
    trackers: TrackerSet
    seed: int
    step: int = 0
    turns: int = 0
    """Acts this agent has taken (equals `step` when every agent acts every step)."""
    task: Task | None = None
    """The run's Task (scaffold.tasks.Task), shared by its agents; offers tools, takes replies."""
    extra: dict[str, Any] = field(default_factory=dict)
    helper_models: dict[str, str] = field(default_factory=dict)
    """Models of the memory helper roles (sleeptime, ...), by role."""

    @property
    def id(self) -> str:
        """The agent id."""
        return self.spec.id

    def persona_meta(self) -> dict[str, Any]:
        """What in-process providers (the scripted model) may know of the persona."""
        return {"name": self.persona.name, "anchors": list(self.persona.anchors)}

    def emit(self, cls: type[E], **fields: Any) -> E:
        """Emit an event for this agent at the current step."""
        fields.setdefault("step", self.step)
        return self.bus.emit(cls, agent_id=self.id, **fields)

    def model_input(self) -> ModelInput:
        """The exact input the agent's model would see next."""
        return self.stack.model_input()

    async def call(self, purpose: str, messages: list[dict[str, Any]], *, model: str | None = None,
                   sample: int = 0, **params: Any) -> Completion:
        """Call a model on this agent's behalf (recorded, retried, cassetted)."""
        ctx = CallContext(purpose=purpose, agent_id=self.id, step=self.step,
                          persona=self.persona_meta(), sample=sample)
        return await self.client.complete(model or self.model, messages, ctx, **params)

    def add_message(self, message: Message) -> None:
        """Put a message into the context and the event log (and any memory it causes)."""
        self.emit(MessageEvent, message_id=message.id, role=message.role,
                  content=message.content, author=message.author,
                  tool_calls=message.tool_calls, tool_call_id=message.tool_call_id)
        for record in self.stack.observe([message]):
            self.emit(MemoryEvent, **record.model_dump())

    async def compact(self) -> list[MemoryEvent]:
        """Let memory act on overflow; records each change and notifies trackers."""
        summary = self.spec.memory.summary
        ctx = CompactionContext(
            agent_id=self.id, step=self.step, window=self.stack.window,
            counter=self.stack.counter, budget_tokens=self.stack.budget_tokens,
            prompt_tokens=self.stack.prompt_tokens, complete=self._summarizer_call,
            before_change=self._before_change,
            extra={"identity": self.persona.identity} if summary.identity else {},
            model_input=lambda: self.model_input().messages, ask_agent=self._notes_call,
            complete_role=self._helper_call,
        )
        events: list[MemoryEvent] = []

        async def record(change: MemoryRecord) -> None:
            events.append(await self.record_memory(change))

        await self.stack.compact(ctx, record)  # each change recorded before the next backend acts
        return events

    async def record_memory(self, record: MemoryRecord) -> MemoryEvent:
        """Emit a memory change and let trackers react (after-probes, memory scoring)."""
        event = self.emit(MemoryEvent, **record.model_dump())
        await self.trackers.call("on_memory_event", self, event, agent_id=self.id,
                                 step=self.step)
        return event

    async def _before_change(self, kind: str) -> None:
        await self.trackers.call("before_memory_event", self, kind, agent_id=self.id,
                                 step=self.step)

    def _base_seed(self, *seeds: int | None) -> int:
        """The first configured seed of a role, else the run's."""
        return next((s for s in seeds if s is not None), self.seed)

    async def _summarizer_call(self, messages: list[dict[str, Any]], max_tokens: int,
                               attempt: int = 0) -> Completion:
        sampling = self.spec.summarizer
        return await self.call("summarizer", messages, model=self.summarizer_model,
                               sample=attempt, max_tokens=max_tokens,
                               temperature=sampling.temperature if attempt == 0
                               else sampling.retry_temperature, top_p=sampling.top_p,
                               seed=self._base_seed(sampling.seed) + attempt)

    async def _helper_call(self, role: str, messages: list[dict[str, Any]], max_tokens: int,
                           attempt: int = 0, purpose: str | None = None) -> Completion:
        """A memory helper role's call: its model (`helper_models`), its sampling (the agent
        spec's field of the role's name), seeded by the step; recorded under `purpose`
        (default: the role's name) when one role makes two kinds of call."""
        if role not in self.helper_models:
            raise ValueError(f"no model role {role!r}; roles: {', '.join(self.helper_models)}")
        sampling = getattr(self.spec, role)
        return await self.call(purpose or role, messages, model=self.helper_models[role],
                               sample=attempt,
                               max_tokens=max_tokens, temperature=sampling.temperature,
                               top_p=sampling.top_p,
                               seed=self._base_seed(sampling.seed) + self.step + attempt)

    async def _notes_call(self, messages: list[dict[str, Any]], max_tokens: int) -> Completion:
        gen, notes = self.spec.generation, self.spec.notes
        temperature = gen.temperature if notes.temperature is None else notes.temperature
        return await self.call("notes", messages, temperature=temperature,
                               top_p=gen.top_p if notes.top_p is None else notes.top_p,
                               max_tokens=max_tokens,
                               seed=self._base_seed(notes.seed, gen.seed) + self.step)

    async def respond(self, tool_round: int = 0) -> Message:
        """Call the agent's model on its current context and add the reply."""
        model_input = self.model_input()
        self.emit(ContextEvent, sections=model_input.sections,
                  total_tokens=model_input.total_tokens, budget_tokens=self.stack.budget_tokens)
        gen = self.spec.generation
        tools = [t.schema() for t in self.tools().values()] or None
        reply = await self.call("agent", model_input.messages, temperature=gen.temperature,
                                top_p=gen.top_p, max_tokens=gen.max_tokens,
                                seed=self._base_seed(gen.seed) + self.step, tools=tools)
        suffix = f"a{tool_round}" if reply.tool_calls else "a"
        message = Message(id=f"{self.id}-{self.step}-{suffix}", role="assistant",
                          content=reply.content, author=self.id, step=self.step,
                          tool_calls=reply.tool_calls)
        self.add_message(message)
        await self.trackers.call("on_reply", self, message, model_input.messages,
                                 agent_id=self.id, step=self.step)
        return message

    async def run_tools(self, message: Message, tool_round: int) -> None:
        """Execute the tool calls of `message`; results (and errors) go back as tool messages."""
        tools = self.tools()
        for j, call in enumerate(message.tool_calls or []):
            function = call.get("function") or {}
            result = await self._run_tool(tools, str(function.get("name")),
                                          function.get("arguments"))
            self.add_message(Message(
                id=f"{self.id}-{self.step}-t{tool_round}-{j}", role="tool", content=result,
                author="tool", step=self.step, tool_call_id=call.get("id"),
                name=str(function.get("name"))))

    def tools(self) -> dict[str, Tool]:
        """Tools offered to the agent by name: its memory's, then its task's."""
        tools: dict[str, Tool] = {t.name: t for t in self.stack.tools()}
        if self.task is not None:
            tools.update({t.name: t for t in self.task.tools(self.id)})
        return tools

    def record_outcomes(self, outcomes: list[TaskOutcome]) -> None:
        """Emit the facts a task reported (TaskOutcome models) as `task` events."""
        for outcome in outcomes:
            self.emit(TaskEvent, **outcome.model_dump())

    async def _run_tool(self, tools: dict[str, Tool], name: str,
                        arguments: str | dict[str, Any] | None) -> str:
        tool = tools.get(name)
        if tool is None:
            return f"error: no tool named {name!r}; available: {', '.join(tools) or 'none'}"
        try:
            args = json.loads(arguments) if isinstance(arguments, str) else dict(arguments or {})
        except (ValueError, TypeError):
            return f"error: arguments for {name} are not valid JSON: {arguments!r}"
        kind = getattr(tool, "kind", None)
        await self._before_change(kind or ("core_edit" if name.startswith("core_memory")
                                           else name))
        try:
            result = tool.run(args)
            text, record = await result if inspect.isawaitable(result) else result
        except (ValueError, TypeError) as exc:
            return f"error: {exc}"
        if isinstance(record, MemoryRecord):
            await self.record_memory(record)
        elif record is not None:
            self.record_outcomes([record])
        return text
