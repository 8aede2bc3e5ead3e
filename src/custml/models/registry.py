"""A registry of named entries in registration order: the one mechanism behind the model candidates
(:mod:`custml.models.candidates`) and the 12-month value candidates (:mod:`custml.models.value`).

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Entry:
...     name: str
>>> reg = Registry[Entry]("entry")
>>> _ = reg.register(Entry("a"))
>>> with reg.registered(Entry("b")):
...     reg.names()
['a', 'b']
>>> reg.names()
['a']
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Generic, Protocol, TypeVar

from custml.errors import ConfigError

__all__ = ["Registry"]


class _Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=_Named)


class Registry(Generic[T]):
    """Named entries in registration order (the tie-break order where the order matters).

    Parameters
    ----------
    kind : str
        What an entry is called in error messages (``"candidate"``, ``"value candidate"``).
    reserved : tuple of str
        Names no entry may take (e.g. ``"stack"``, which the champion choice builds itself).
    """

    def __init__(self, kind: str, reserved: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self.reserved = reserved
        self._entries: dict[str, T] = {}

    def register(self, entry: T) -> T:
        """Add ``entry`` after the registered ones; a registered or reserved name is refused."""
        if entry.name in self._entries or entry.name in self.reserved:
            raise ConfigError(f"{self.kind} {entry.name!r} is already registered")
        self._entries[entry.name] = entry
        return entry

    def unregister(self, name: str) -> None:
        """Remove a registered entry (a built-in one included)."""
        if name not in self._entries:
            raise ConfigError(f"no {self.kind} {name!r} is registered; registered: {self.names()}")
        del self._entries[name]

    @contextmanager
    def registered(self, entry: T) -> Iterator[T]:
        """Register ``entry`` for the duration of a ``with`` block (tests, experiments)."""
        self.register(entry)
        try:
            yield entry
        finally:
            self._entries.pop(entry.name, None)

    def names(self) -> list[str]:
        """Registered names, in registration order."""
        return list(self._entries)

    def entries(self) -> list[T]:
        """Registered entries, in registration order."""
        return list(self._entries.values())

    def get(self, name: str) -> T:
        """The entry called ``name``."""
        if name not in self._entries:
            raise ConfigError(f"unknown {self.kind} {name!r}; registered: {self.names()}")
        return self._entries[name]
