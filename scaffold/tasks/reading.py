"""Reading task: a long document fed to each agent in chunks, the agent writing notes on each."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from scaffold.config import ReadingSpec
from scaffold.errors import ConfigError
from scaffold.registry import task
from scaffold.tasks.base import AgentTurn, PerAgentTask, TaskContext, TaskOutcome, TaskTurn

BUNDLED_TEXTS = ("inaugural-1961.txt", "gettysburg-1863.txt")
"""The default document, in order: public-domain US texts under scaffold/tasks/texts/."""

FIELD = "task.reading.document"
"""The setting named in document errors."""

PARAGRAPH_BREAK_SHARE = 0.75
"""A chunk this full ends at the next paragraph break rather than in the next paragraph."""

ABBREVIATIONS = frozenset({"mr.", "mrs.", "ms.", "dr.", "st.", "jr.", "sr.", "vs.", "e.g.", "i.e."})
"""Words whose final period does not end a sentence."""

Piece = tuple[bool, list[str]]
"""A run of words and whether it starts a paragraph."""


def bundled_text() -> str:
    """The bundled default document, without the files' `#` source lines."""
    folder = resources.files("scaffold.tasks").joinpath("texts")
    parts = []
    for name in BUNDLED_TEXTS:
        text = folder.joinpath(name).read_text(encoding="utf-8")
        lines = [line for line in text.splitlines() if not line.startswith("#")]
        parts.append("\n".join(lines).strip())
    return "\n\n".join(parts)


def load_document(settings: ReadingSpec) -> str:
    """The document to read: the user's UTF-8 file, or the bundled text when none is set.

    Args:
        settings: the task's reading settings.

    Raises:
        ConfigError: the file is missing, unreadable, not UTF-8 text, or empty.
    """
    if settings.document is None:
        return bundled_text()
    path = Path(settings.document).expanduser()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        problem = f"file not found: {path}"
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 text: {path} (byte {exc.start})"
    except OSError as exc:
        problem = f"cannot read {path}: {exc.strerror or exc}"
    else:
        if text.split():
            return text
        problem = f"the document is empty: {path}"
    raise ConfigError("task.reading", [f"{FIELD}: {problem}"])


def _sentences(paragraph: str) -> list[list[str]]:
    """A paragraph's words, grouped into sentences (a word ending in . ! or ? ends one)."""
    sentences: list[list[str]] = [[]]
    for word in paragraph.split():
        sentences[-1].append(word)
        bare = word.rstrip("\"')]\u201d\u2019")
        if bare.endswith((".", "!", "?")) and bare.lower() not in ABBREVIATIONS:
            sentences.append([])
    return [s for s in sentences if s]


def _pieces(text: str, limit: int) -> list[Piece]:
    """Sentences (over-long ones cut into `limit`-word runs), marking paragraph starts."""
    pieces: list[Piece] = []
    for paragraph in text.replace("\r\n", "\n").split("\n\n"):
        for i, sentence in enumerate(_sentences(paragraph)):
            for j in range(0, len(sentence), limit):
                pieces.append((i == 0 and j == 0, sentence[j:j + limit]))
    return pieces


def _render(pieces: list[Piece]) -> str:
    out = ""
    for starts_paragraph, words in pieces:
        joiner = "\n\n" if starts_paragraph else " "
        out += (joiner if out else "") + " ".join(words)
    return out


def document_chunks(text: str, chunk_words: int) -> list[str]:
    """Split a document into chunks of at most `chunk_words` words, in order.

    Chunks end at sentence ends, and at a paragraph break once they are three quarters full;
    only a sentence longer than `chunk_words` is cut mid-sentence. Every word of the document
    appears in exactly one chunk, in its original order.

    Args:
        text: the document.
        chunk_words: the most words in one chunk.

    Returns:
        The chunks; paragraph breaks inside a chunk are kept as blank lines.
    """
    chunks: list[list[Piece]] = [[]]
    size = 0
    for piece in _pieces(text, chunk_words):
        starts_paragraph, words = piece
        full = size + len(words) > chunk_words
        at_break = starts_paragraph and size >= chunk_words * PARAGRAPH_BREAK_SHARE
        if size and (full or at_break):
            chunks.append([])
            size = 0
        chunks[-1].append(piece)
        size += len(words)
    return [_render(c) for c in chunks if c]


class ReadingTask(PerAgentTask):
    """Each agent reads its own copy of the document, one passage per step, and writes notes.

    Per-agent state: `read` (passages replied to). An agent is finished after the last
    passage; the run ends early once every agent is.
    """

    name = "reading"

    def __init__(self, ctx: TaskContext):
        super().__init__(ctx)
        settings = ctx.settings.reading
        self.instruction = settings.instruction
        self.chunks = document_chunks(load_document(settings),
                                      settings.chunk_words)

    async def inputs_for(self, agent_id: str, step: int) -> list[TaskTurn] | None:
        """The next unread passage, with the instruction; None when all are read."""
        index = int(self.agent_state[agent_id].get("read", 0))
        if index >= len(self.chunks):
            return None
        text = (f"{self.instruction}\n\nPassage {index + 1} of {len(self.chunks)}:\n\n"
                f"{self.chunks[index]}")
        return [TaskTurn(text=text, author="task")]

    async def on_reply(self, agent_id: str, step: int, turn: AgentTurn,
                       reply: str) -> list[TaskOutcome]:
        """Count the passage as read; after the last one the agent is finished."""
        state = self.agent_state[agent_id]
        index = int(state.get("read", 0))
        total = len(self.chunks)
        if index >= total:
            return []
        state["read"] = index + 1
        outcomes = [TaskOutcome(
            name="chunk", text=f"passage {index + 1}/{total} read",
            data={"chunk": index + 1, "chunks": total,
                  "words": len(self.chunks[index].split()), "note_chars": len(reply.strip())})]
        if index + 1 == total:
            state["finished"] = True
            outcomes.append(TaskOutcome(name="done", text=f"all {total} passages read",
                                        data={"chunks": total}))
        return outcomes


@task("reading")
def make_reading(ctx: TaskContext) -> ReadingTask:
    """Factory for the registry."""
    return ReadingTask(ctx)
