"""Document writers: self-contained HTML (inline CSS and SVG) and Markdown with PNG files."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Protocol

from scaffold.redact import redact_known
from scaffold.report._answers import AnswerTable
from scaffold.report._plots import prefix_svg
from scaffold.report._figure_cache import FigureCache
from scaffold.report._render import FigureJob, render_figures
from scaffold.report._tables import Cell, Table, slug

FOLD_CHARS = 300
"""Longer cell texts are folded into a <details> element in HTML."""

CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1200px;
       padding: 0 1em; color: #222; }
h1, h2, h3, h4 { margin-top: 1.6em; } h2 { border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: .6em 0; font-size: 12px; }
th, td { border: 1px solid #ddd; padding: 2px 6px; vertical-align: top; text-align: left; }
th { background: #f3f3f3; } td { white-space: pre-wrap; max-width: 520px; }
tbody.round > tr:first-child th { background: #e8eef8; }
tbody:target, tr:target, td:target { background: #fff3b0; }
nav a { margin-right: 1em; } svg { max-width: 100%; height: auto; }
.muted { color: #777; }
"""


class DocumentWriter(Protocol):
    """What the report walker writes to; `render` returns the finished document."""

    def heading(self, level: int, text: str, anchor: str | None = None) -> None: ...
    def paragraph(self, text: str) -> None: ...
    def links(self, items: list[tuple[str, str]]) -> None: ...
    def table(self, table: Table) -> None: ...
    def figure(self, job: FigureJob, name: str, alt: str) -> None: ...
    def answers(self, table: AnswerTable) -> None: ...
    def render(self) -> str: ...


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


class HtmlWriter:
    """A single self-contained HTML page; every text from events is escaped."""

    def __init__(self, title: str, workers: int | None = None,
                 cache: FigureCache | None = None):
        self.title = title
        self.parts: list[str] = [f"<h1>{_esc(title)}</h1>"]
        self.workers = workers
        self.cache = cache
        self._figures: list[tuple[FigureJob, str, int]] = []

    def heading(self, level: int, text: str, anchor: str | None = None) -> None:
        """Add a heading, with an id when `anchor` is given."""
        ident = f' id="{_esc(anchor)}"' if anchor else ""
        self.parts.append(f"<h{level}{ident}>{_esc(text)}</h{level}>")

    def paragraph(self, text: str) -> None:
        """Add a paragraph of plain text."""
        self.parts.append(f"<p>{_esc(text)}</p>")

    def links(self, items: list[tuple[str, str]]) -> None:
        """Add a row of in-page links: (text, anchor id)."""
        inner = "".join(f'<a href="#{_esc(a)}">{_esc(t)}</a>' for t, a in items)
        self.parts.append(f"<nav>{inner}</nav>")

    def table(self, table: Table) -> None:
        """Add a table (or a muted note when it has no rows)."""
        if not table.rows:
            self.parts.append('<p class="muted">none</p>')
            return
        head = "".join(f"<th>{_esc(h)}</th>" for h in table.headers)
        body = "".join("<tr>" + "".join(map(_cell, row)) + "</tr>" for row in table.rows)
        self.parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def figure(self, job: FigureJob, name: str, alt: str) -> None:
        """Inline a figure as SVG whose links point into this page (drawn at `render`)."""
        self._figures.append((job, alt, len(self.parts)))
        self.parts.append("")

    def answers(self, table: AnswerTable) -> None:
        """The probe answers: one <tbody> per round, its id the target of the round's points."""
        head = "".join(f"<th>{_esc(h)}</th>" for h in table.headers)
        bodies = []
        for block in table.rounds:
            title = (f"{block.round_id} · step {block.step} · {block.trigger}")
            rows = "".join("<tr>" + "".join(map(_cell, row)) + "</tr>" for row in block.rows)
            bodies.append(f'<tbody class="round" id="{_esc(block.anchor)}"><tr>'
                          f'<th colspan="{len(table.headers)}">{_esc(title)}</th></tr>'
                          f"{rows}</tbody>")
        self.parts.append(f"<table><thead><tr>{head}</tr></thead>{''.join(bodies)}</table>")

    def render(self) -> str:
        """The whole page with its figures drawn (keys the environment knows masked, for runs
        recorded unmasked)."""
        drawn = render_figures([job for job, _, _ in self._figures], "svg", self.workers,
                               self.cache)
        parts: list[str | None] = list(self.parts)
        number = 0
        for (_, alt, at), svg in zip(self._figures, drawn, strict=True):
            if not isinstance(svg, str):
                parts[at] = None
                continue
            number += 1
            parts[at] = (f'<figure role="img" aria-label="{_esc(alt)}">'
                         f'{prefix_svg(svg, f"fig{number}")}</figure>')
        return redact_known("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                            f"<title>{_esc(self.title)}</title><style>{CSS}</style></head>"
                            "<body>\n" + "\n".join(p for p in parts if p is not None)
                            + "\n</body></html>\n")


def _cell(cell: Cell) -> str:
    attrs = (f' id="{_esc(cell.id)}"' if cell.id else "") + (
        f' title="{_esc(cell.title)}"' if cell.title else "")
    text = _esc(cell.text)
    if len(cell.text) > FOLD_CHARS:
        text = (f"<details><summary>{_esc(cell.text[:FOLD_CHARS // 2])}…</summary>"
                f"{text}</details>")
    if cell.href:
        text = f'<a href="{_esc(cell.href)}">{text}</a>'
    return f"<td{attrs}>{text}</td>"


class MarkdownWriter:
    """Markdown with figures saved as PNG files next to the document."""

    def __init__(self, title: str, out_dir: Path, workers: int | None = None,
                 cache: FigureCache | None = None):
        self.out_dir = out_dir
        self.parts: list[str] = [f"# {_md(title)}"]
        self.files: list[Path] = []
        self.workers = workers
        self.cache = cache
        self._figures: list[tuple[FigureJob, str, str, int]] = []

    def heading(self, level: int, text: str, anchor: str | None = None) -> None:
        """Add a heading, preceded by an HTML anchor when `anchor` is given."""
        ident = f'<a id="{_esc(anchor)}"></a>\n' if anchor else ""
        self.parts.append(f"{ident}{'#' * level} {_md(text)}")

    def paragraph(self, text: str) -> None:
        """Add a paragraph of plain text."""
        self.parts.append(_md(text))

    def links(self, items: list[tuple[str, str]]) -> None:
        """Add a line of in-page links."""
        self.parts.append(" · ".join(f"[{_md(t)}](#{a})" for t, a in items))

    def table(self, table: Table) -> None:
        """Add a pipe table (or 'none')."""
        if not table.rows:
            self.parts.append("_none_")
            return
        self.parts.append(_pipe_table(table.headers, [[_md_cell(c) for c in r]
                                                       for r in table.rows]))

    def figure(self, job: FigureJob, name: str, alt: str) -> None:
        """Link the figure as report-<name>.png (drawn and saved at `render`)."""
        self._figures.append((job, f"report-{slug(name)}.png", alt, len(self.parts)))
        self.parts.append("")

    def answers(self, table: AnswerTable) -> None:
        """One table; each round's first row carries the round's anchor."""
        rows = []
        for block in table.rounds:
            for i, row in enumerate(block.rows):
                label = (f'<a id="{_esc(block.anchor)}"></a>{_md(block.round_id)} '
                         f"(step {block.step}, {block.trigger})" if i == 0 else "")
                rows.append([label, *(_md_cell(c) for c in row)])
        self.parts.append(_pipe_table(["round", *table.headers], rows))

    def render(self) -> str:
        """The whole document, its figures saved as PNG files next to it (keys the environment
        knows masked)."""
        drawn = render_figures([job for job, _, _, _ in self._figures], "png", self.workers,
                               self.cache)
        parts: list[str | None] = list(self.parts)
        for (_, name, alt, at), png in zip(self._figures, drawn, strict=True):
            if not isinstance(png, bytes):
                parts[at] = None
                continue
            path = self.out_dir / name
            path.write_bytes(png)
            self.files.append(path)
            parts[at] = f"![{_md(alt)}]({name})"
        return redact_known("\n\n".join(p for p in parts if p is not None) + "\n")


def _md(text: str) -> str:
    """Text safe in a Markdown table cell or line: HTML-escaped, pipes and newlines tamed."""
    return html.escape(text, quote=False).replace("|", "\\|").replace("\r", "").replace(
        "\n", "<br>")


def _md_cell(cell: Cell) -> str:
    text = (f'<a id="{_esc(cell.id)}"></a>' if cell.id else "") + _md(cell.text)
    return f"[{text}]({cell.href})" if cell.href else text


def _pipe_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(_md(h) for h in headers) + " |",
             "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
