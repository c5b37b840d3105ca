"""Value classes that cost nothing to define: what the start-up of ``sohs validate`` imports.

A ``@dataclass`` writes its ``__init__``, ``__repr__`` and ``__eq__`` as source text and compiles
them when its module is imported: 4 to 7 million instructions a class, where a class with
``__slots__`` and an ``__init__`` of its own costs a twentieth of that. Fifteen of them were 5 % of
validating a 101-episode export from the command line (docs/performance.md, validate-export).
The classes on that path derive from :class:`Plain` (or :class:`Frozen`), which gives what the
code uses of a dataclass: equality field by field, a repr, and :meth:`Plain.replace`. A subclass
lists its fields in ``__slots__`` (sorted, as ruff wants them) and sets each in its ``__init__``.
"""

from __future__ import annotations

from typing import Any, Self


class Plain:
    """Equality, repr and ``replace`` from the fields named in ``__slots__`` (mutable, unhashable,
    as a dataclass is)."""

    __slots__: tuple[str, ...] = ()
    __hash__ = None  # type: ignore[assignment]  # mutable: no hash, as a dataclass without frozen=True

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{self.__class__.__qualname__}({fields})"

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` (``dataclasses.replace``)."""
        values = {name: getattr(self, name) for name in self.__slots__}
        values.update(changes)
        return self.__class__(**values)


class Frozen(Plain):
    """A :class:`Plain` that is hashable: its fields are not changed once it is made (by
    convention: nothing enforces it, a check on every assignment would cost what it saves)."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(self._values())
