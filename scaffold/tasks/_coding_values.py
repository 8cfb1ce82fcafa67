"""Values a graded call returned, as plain JSON: built-in types only, so comparing them is safe.

The sandboxed solution's process encodes what each test call returned (`encode`); the runner
decodes it (`decode`) and compares it with the expected value there, with `==` on built-in
values only. An object of a user-defined class cannot be encoded (so an "always equal" object
fails its test); a subclass of a built-in type is read through the built-in type's own methods,
so its overrides (`__eq__`, `__iter__`, `__repr__`, ...) play no part. `decode` trusts nothing:
its input comes from the code under test.

Standard library only: it is also copied into the sandbox, beside the grading harness.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

MAX_DEPTH = 64
"""Deepest nesting of containers encoded or decoded."""
MAX_NODES = 200_000
"""Most values (containers and scalars) in one encoded result."""
SHOWN = 300
"""Longest repr `show` returns."""


class Unencodable(ValueError):
    """A value that cannot be compared safely (a user-defined object, too deep, too big)."""


def _encode_int(v: Any) -> list[Any]:
    return ["i", int.__format__(v, "x")]  # hex: no digit limit, exact


def _encode_float(v: Any) -> list[Any]:
    return ["f", float.__repr__(v)]


def _encode_complex(v: Any) -> list[Any]:
    return ["c", [float.__repr__(complex.real.__get__(v)),
                  float.__repr__(complex.imag.__get__(v))]]


_SCALARS: dict[type, Callable[[Any], list[Any]]] = {
    type(None): lambda v: ["n", None],
    bool: lambda v: ["b", v is True],
    int: _encode_int,
    float: _encode_float,
    complex: _encode_complex,
    str: lambda v: ["s", str.__str__(v)],
    bytes: lambda v: ["y", bytes.hex(v)],
    bytearray: lambda v: ["y", bytearray.hex(v)],
}
_CONTAINERS: dict[type, tuple[str, Callable[[Any], Iterator[Any]]]] = {
    list: ("l", list.__iter__), tuple: ("t", tuple.__iter__),
    set: ("S", set.__iter__), frozenset: ("F", frozenset.__iter__)}


class _Encoder:
    """One encoding pass, counting nodes."""

    def __init__(self) -> None:
        self.nodes = 0

    def encode(self, value: Any, depth: int = 0) -> list[Any]:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise Unencodable(f"the value has more than {MAX_NODES} parts")
        if depth > MAX_DEPTH:
            raise Unencodable(f"the value is nested more than {MAX_DEPTH} levels deep")
        for base in type(value).__mro__:  # the most specific built-in type it derives from
            if base in _SCALARS:
                return _SCALARS[base](value)
            if base in _CONTAINERS:
                tag, items = _CONTAINERS[base]
                return [tag, [self.encode(x, depth + 1) for x in items(value)]]
            if base is dict:
                return ["d", [[self.encode(k, depth + 1), self.encode(x, depth + 1)]
                              for k, x in dict.items(value)]]
            if base is range:
                return ["r", [int.__format__(n, "x") for n in (value.start, value.stop,
                                                                 value.step)]]
        name = type(value).__qualname__
        raise Unencodable(f"a {name} is not a built-in value (only those can be compared)")


def encode(value: Any) -> list[Any]:
    """`value` as a JSON-able tree of `[tag, payload]` pairs.

    Raises:
        Unencodable: `value` holds something other than built-in values, or is too big.
    """
    return _Encoder().encode(value)


def _int(payload: Any) -> int:
    if not isinstance(payload, str) or not 0 < len(payload) <= 1_000_000:
        raise ValueError("bad integer")
    return int(payload, 16)


def _float(payload: Any) -> float:
    if not isinstance(payload, str) or len(payload) > 40:
        raise ValueError("bad float")
    return float(payload)


def _hashable(value: Any) -> Any:
    hash(value)  # TypeError for a list or dict where a key must go
    return value


def _decode_scalar(tag: str, p: Any) -> Any:
    if tag == "n" and p is None:
        return None
    if tag == "b" and isinstance(p, bool):
        return p
    if tag == "i":
        return _int(p)
    if tag == "f":
        return _float(p)
    if tag == "c" and isinstance(p, list) and len(p) == 2:
        return complex(_float(p[0]), _float(p[1]))
    if tag == "s" and isinstance(p, str):
        return p
    if tag == "y" and isinstance(p, str):
        return bytes.fromhex(p)
    if tag == "r" and isinstance(p, list) and len(p) == 3:
        return range(_int(p[0]), _int(p[1]), _int(p[2]))
    raise ValueError(f"bad value {tag!r}")


def decode(node: Any, depth: int = 0) -> Any:
    """The built-in value `node` encodes.

    Raises:
        ValueError: `node` is not a well-formed encoding (wrong shape, tag or payload).
    """
    if depth > MAX_DEPTH + 1:
        raise ValueError("nested too deeply")
    if not (isinstance(node, list) and len(node) == 2 and isinstance(node[0], str)):
        raise ValueError("not an encoded value")
    tag, payload = node
    if tag in ("l", "t", "S", "F", "d"):
        if not isinstance(payload, list):
            raise ValueError(f"bad container {tag!r}")
        if tag == "d":
            pairs = [(p[0], p[1]) if isinstance(p, list) and len(p) == 2 else (None, None)
                     for p in payload]
            try:
                return {_hashable(decode(k, depth + 1)): decode(v, depth + 1) for k, v in pairs}
            except TypeError:
                raise ValueError("unhashable dict key") from None
        items = [decode(x, depth + 1) for x in payload]
        if tag in ("S", "F"):
            try:
                return set(items) if tag == "S" else frozenset(items)
            except TypeError:
                raise ValueError("unhashable set element") from None
        return items if tag == "l" else tuple(items)
    try:
        return _decode_scalar(tag, payload)
    except (TypeError, OverflowError) as exc:
        raise ValueError(str(exc)) from None


def show(value: Any) -> str:
    """A short repr of a decoded (built-in) value."""
    try:
        text = repr(value)
    except ValueError:  # an int past the interpreter's digit limit
        text = f"<an int of {value.bit_length()} bits>"
    return text if len(text) <= SHOWN else text[:SHOWN] + "..."
