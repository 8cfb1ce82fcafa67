"""Reading YAML safely: size, nesting and alias-expansion limits, duplicate keys as errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from scaffold.errors import ConfigError

MAX_BYTES = 1 << 20
"""Largest config file read (1 MiB); persona data sets belong in files named by `from:`."""
MAX_DEPTH = 64
"""Deepest nesting of lists and mappings, aliases included."""
MAX_ALIAS_NODES = 100_000
"""Values that aliases (`*name`) may add to a document beyond the ones written out."""
MAX_ALIAS_CHARS = 4_000_000
"""Characters of text that aliases may add to a document beyond the ones written out."""
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Measure:
    """What a node stands for once every alias in it is written out."""

    __slots__ = ("nodes", "chars", "depth")

    def __init__(self, nodes: int, chars: int, depth: int):
        self.nodes, self.chars, self.depth = nodes, chars, depth


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _own_chars(node: Node) -> int:
    return len(node.value) if isinstance(node, ScalarNode) else 0


class _LimitedComposer(Composer):
    """PyYAML's composer, refusing documents that nest too deeply, repeat a key, or whose
    aliases expand past a limit. Every check runs on the composed node graph, before a single
    Python object is built from it."""

    peek_event: Callable[[], Any]  # from the parser this composer is mixed with

    def __init__(self) -> None:
        Composer.__init__(self)
        self._depth = 0
        self._aliases: list[tuple[str, Any, Node]] = []

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        if self._depth >= MAX_DEPTH:
            raise ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels",
                                event.start_mark)
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if isinstance(event, yaml.AliasEvent) and node is not None:
            self._aliases.append((str(event.anchor), event.start_mark, node))
        return node

    def compose_mapping_node(self, anchor: Any) -> MappingNode:
        node = super().compose_mapping_node(anchor)
        first_line: dict[tuple[str, str], int] = {}
        for key, _ in node.value:
            if not isinstance(key, ScalarNode) or key.tag == _MERGE_TAG:
                continue
            if (key.tag, key.value) in first_line:
                raise ComposerError(
                    None, None, f"duplicate key {key.value!r} (first at line "
                    f"{first_line[key.tag, key.value]}); YAML would silently keep only the last "
                    "one: remove or rename one", key.start_mark)
            first_line[key.tag, key.value] = key.start_mark.line + 1
        return node

    def compose_document(self) -> Node | None:
        node = super().compose_document()
        if node is not None:
            self._check_expansion(node)
        return node

    def _check_expansion(self, root: Node) -> None:
        """Refuse recursive aliases and aliases that expand too far (a 'billion laughs')."""
        sizes = _measure(root)
        written_nodes = len(sizes)
        written_chars = sum(_own_chars(n) for n, _ in sizes.values())
        total = sizes[id(root)][1]
        if total.depth > MAX_DEPTH:
            raise ComposerError(None, None, f"aliases nest the document deeper than {MAX_DEPTH} "
                                "levels", self._largest_alias(sizes)[1])
        extra_nodes, extra_chars = total.nodes - written_nodes, total.chars - written_chars
        if extra_nodes > MAX_ALIAS_NODES or extra_chars > MAX_ALIAS_CHARS:
            name, mark, alias = self._largest_alias(sizes)
            raise ComposerError(
                None, None,
                f"aliases expand this document past the limit ({MAX_ALIAS_NODES:,} values, "
                f"{MAX_ALIAS_CHARS:,} characters beyond the ones written out): *{name} alone "
                f"stands for {alias.nodes:,} value(s) and {alias.chars:,} characters (a YAML "
                "alias bomb?); write the values out or use fewer aliases", mark)

    def _largest_alias(self, sizes: dict[int, tuple[Node, _Measure]]
                       ) -> tuple[str, Any, _Measure]:
        if not self._aliases:
            return "", None, _Measure(0, 0, 0)
        name, mark, node = max(self._aliases, key=lambda a: sizes[id(a[2])][1].nodes
                               + sizes[id(a[2])][1].chars)
        return name, mark, sizes[id(node)][1]


try:
    from yaml._yaml import CParser  # libyaml's parser: about 4 times faster

    class _SafeLimitedLoader(_LimitedComposer, CParser, SafeConstructor, Resolver):
        """libyaml events, composed and checked in Python, built by the safe constructor."""

        def __init__(self, stream: str):
            CParser.__init__(self, stream)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            _LimitedComposer.__init__(self)

except ImportError:  # PyYAML built without libyaml

    class _SafeLimitedLoader(_LimitedComposer, yaml.SafeLoader):  # type: ignore[no-redef]
        """PyYAML's pure-Python safe loader with the composer's checks."""

        def __init__(self, stream: str):
            yaml.SafeLoader.__init__(self, stream)
            _LimitedComposer.__init__(self)


def _measure(root: Node) -> dict[int, tuple[Node, _Measure]]:
    """Every distinct node's expanded size, computed once per node (an alias shares its
    anchor's node), without recursion.

    Raises:
        ComposerError: an alias refers to a node that contains it.
    """
    sizes: dict[int, tuple[Node, _Measure]] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_nodes.discard(key)
            parts = [sizes[id(child)][1] for child in _children(node)]
            sizes[key] = (node, _Measure(1 + sum(p.nodes for p in parts),
                                         _own_chars(node) + sum(p.chars for p in parts),
                                         1 + max((p.depth for p in parts), default=0)))
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise ComposerError(None, None, "an alias refers to a list or mapping that "
                                "contains it (a recursive document)", node.start_mark)
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    return sizes


def parse_yaml(text: str, source: str, kind: str = "YAML") -> Any:
    """Parse YAML text (JSON is YAML too) within the limits above.

    Args:
        text: the document.
        source: where it came from, for messages.
        kind: what the text should be, for messages ("YAML", "YAML/JSON").

    Raises:
        ConfigError: the text is too large, not valid YAML, nests too deeply, repeats a key, or
            expands past the alias limit; the message gives line and column.
    """
    if len(text) > MAX_BYTES:
        raise ConfigError(source, [_too_large(len(text))])
    loader = _SafeLimitedLoader(text)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = getattr(exc, "context", None)
        problem = f"{context}, {problem}" if context and mark else problem
        if isinstance(exc, yaml.reader.ReaderError):
            where = f"character {exc.position + 1}: "
        raise ConfigError(source, [f"invalid {kind}: {where}{problem}"]) from None
    except Exception as exc:  # a constructor choking on a tagged value (!!timestamp "x"), or an
        # integer of 5,000 digits: whatever a hostile file provokes, it is an invalid file
        reason = str(exc).split(";")[0]
        raise ConfigError(source, [f"invalid {kind}: a value cannot be read "
                                   f"({type(exc).__name__}: {reason})"]) from None
    finally:
        loader.dispose()


def _too_large(size: int) -> str:
    return (f"file too large: {size:,} bytes, more than the {MAX_BYTES:,} (1 MiB) a config file "
            "may hold; put large persona sets in their own file (personas.<key>.from)")


def read_yaml_file(path: str | Path, kind: str = "YAML") -> Any:
    """Read and parse a YAML (or JSON) file, with errors that name the file and the position.

    Reads at most MAX_BYTES + 1 bytes, so a huge file or a device never fills memory.

    Args:
        path: the file.
        kind: what the file should be, for the message ("YAML", "YAML/JSON").

    Raises:
        ConfigError: the file is missing, unreadable, too large, or not valid `kind`.
    """
    p = Path(path)
    try:
        with p.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            size = p.stat().st_size
            raise ConfigError(str(p), [_too_large(max(size, len(raw)))])
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(str(p), ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(p), [f"cannot read file: {exc}"]) from None
    return parse_yaml(text, str(p), kind)
