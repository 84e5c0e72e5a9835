"""SOQL LIKE patterns matched in time linear in the text, with no backtracking.

A pattern is cut at its `%` into segments of fixed length (characters and `_`, which matches any
one character). The first segment must start the text and the last must end it; each middle one
is taken at its leftmost place after the previous, which is never worse than any later place, so
no choice is ever undone. Segments without `_` are found with `str.find`; those with `_` with a
bit-parallel scan (one big-integer step per character of text). Case is ignored character by
character, as a case-insensitive regular expression would.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

ANY = None
"""A segment item matching any one character (`_`)."""

Segment = tuple[str | None, ...]


def fold_char(char: str) -> str:
    """One character in the case used for comparing; never changes a string's length."""
    folded = char.casefold()
    if len(folded) == 1:
        return folded
    lowered = char.lower()
    return lowered if len(lowered) == 1 else char


def fold(text: str) -> str:
    folded = text.casefold()
    return folded if len(folded) == len(text) else "".join(fold_char(c) for c in text)


class _Scan:
    """One segment compiled for searching: a plain string, or bit masks for a shift-and scan."""

    def __init__(self, items: Segment) -> None:
        self.items = items
        self.length = len(items)
        self.literal = None if ANY in items else "".join(items)  # type: ignore[arg-type]
        self.any_mask = sum(1 << i for i, item in enumerate(items) if item is ANY)
        self.masks: dict[str, int] = {}
        for i, item in enumerate(items):
            if item is not ANY:
                self.masks[item] = self.masks.get(item, self.any_mask) | (1 << i)
        self.hit = 1 << (self.length - 1) if items else 0

    def fits(self, text: str, at: int) -> bool:
        """Whether the segment matches `text` exactly at position `at`."""
        if self.literal is not None:
            return text.startswith(self.literal, at)
        if at < 0 or at + self.length > len(text):
            return False
        return all(item is ANY or text[at + i] == item for i, item in enumerate(self.items))

    def find(self, text: str, start: int, end: int) -> int:
        """The leftmost position where the segment matches wholly inside text[start:end], or -1."""
        if self.literal is not None:
            return text.find(self.literal, start, end)
        state, masks, any_mask, hit = 0, self.masks, self.any_mask, self.hit
        for j in range(start, end):
            state = ((state << 1) | 1) & masks.get(text[j], any_mask)
            if state & hit:
                return j - self.length + 1
        return -1


@dataclass(frozen=True)
class LikePattern:
    """A parsed LIKE pattern: the segments between its `%`s (folded), and whether it had any `%`."""

    segments: tuple[Segment, ...]
    has_percent: bool

    @classmethod
    def from_items(cls, items: list[tuple[str, bool]]) -> LikePattern:
        """From (character, escaped) pairs: an unescaped `%` cuts, an unescaped `_` is ANY."""
        segments: list[Segment] = []
        current: list[str | None] = []
        for char, escaped in items:
            if char == "%" and not escaped:
                segments.append(tuple(current))
                current = []
            elif char == "_" and not escaped:
                current.append(ANY)
            else:
                current.append(fold_char(char))
        segments.append(tuple(current))
        return cls(tuple(segments), len(segments) > 1)

    @cached_property
    def _scans(self) -> tuple[_Scan, _Scan, tuple[_Scan, ...], int]:
        head, tail = _Scan(self.segments[0]), _Scan(self.segments[-1])
        middle = tuple(_Scan(s) for s in self.segments[1:-1] if s)
        return head, tail, middle, sum(len(s) for s in self.segments)

    def matches(self, value: str) -> bool:
        text = fold(value)
        head, tail, middle, shortest = self._scans
        size = len(text)
        if not self.has_percent:
            return size == head.length and head.fits(text, 0)
        if size < shortest or not head.fits(text, 0) or not tail.fits(text, size - tail.length):
            return False
        position, end = head.length, size - tail.length
        for scan in middle:
            found = scan.find(text, position, end)
            if found < 0:
                return False
            position = found + scan.length
        return True
