"""Words officials confirmed in one unit's books, as extra lexicon words for the decoder.

A local hamlet ("Bản Lướt") or a common local surname ("Lò", "Giàng") is rare in the shipped
lexicons, so the beam "corrects" it to a near, better-known word. Once officials have
confirmed it in the unit's books it is known there: ``LocalLexicon`` carries those words with
their counts (built by the workbench from the database, see ``workbench.training.lexicon_growth``),
small, immutable and picklable so that it travels with a page task to worker processes, and
hashable by content so that decoders can cache the merged lexicon per unit.

It also carries the book's own unit (``home``: the unit and the units above it, as the unit table
names them): most places written in a commune's book lie in that commune or its district, so the
place decoder searches those names further and gives them a small bonus (``ocr.places.index``).
"""

from __future__ import annotations

import hashlib
import math
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from ocr.fields.lexicon import Lexicon, split_words

# A word confirmed once in the unit is as likely as a listed given name in the shipped name
# lexicon (pseudo-count 50 of ~55,000, ln P ~ -7); each further confirmation adds as much, up
# to the level of the most common surnames (ln P ~ -2.7 for "nguyễn").
LOCAL_WORD_SHARE = 1e-3
LOCAL_MAX_LOGP = math.log(0.05)


class HomeUnit(NamedTuple):
    """One unit of the book's path, from the book's own unit up: its name as the unit table has it
    ("Xã Đại Lãnh") and its level when the registry knows it ("ward", "district", "province";
    "" lets the name's type word decide)."""

    name: str
    level: str = ""


@dataclass(frozen=True)
class LocalLexicon:
    """Per field type, lowercase word -> how often officials confirmed it (one unit's books), and
    the book's unit path (``home``).

    Equality and hash use a digest of the content, so two copies (one per page task after
    pickling) hit the same cache entry and a cache lookup never compares the whole table.
    """

    entries: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = field(default=(), compare=False, repr=False)
    home: tuple[HomeUnit, ...] = field(default=(), compare=False)
    digest: str = field(init=False, default="")

    def __post_init__(self) -> None:
        # Plain tuples: a HomeUnit and a (name, level) pair are the same home (and the same digest).
        object.__setattr__(self, "home", tuple(HomeUnit(*unit) for unit in self.home))
        text = repr((self.entries, [tuple(unit) for unit in self.home])).encode("utf-8")
        object.__setattr__(self, "digest", hashlib.sha1(text, usedforsecurity=False).hexdigest())

    def with_home(self, home: tuple[HomeUnit, ...]) -> LocalLexicon:
        """The same words for a book of the unit path ``home`` (smallest unit first)."""
        return replace(self, home=tuple(home))

    @classmethod
    def from_counts(cls, counts: Mapping[str, Mapping[str, int]], home: tuple[HomeUnit, ...] = ()) -> LocalLexicon:
        """Build from ``{field type: {word or value text: count}}``; texts are split into words
        (letter runs), lowercased and NFC, so whole confirmed values may be passed as well."""
        entries = []
        for field_type in sorted(counts):
            words: Counter[str] = Counter()
            for text, count in counts[field_type].items():
                if count > 0:
                    for word in split_words(text):
                        words[unicodedata.normalize("NFC", word).lower()] += int(count)
            if words:
                entries.append((field_type, tuple(sorted(words.items()))))
        return cls(tuple(entries), tuple(home))

    def counts(self, field_type: str) -> dict[str, int]:
        return next((dict(words) for ft, words in self.entries if ft == field_type), {})

    @property
    def field_types(self) -> tuple[str, ...]:
        return tuple(ft for ft, _ in self.entries)

    @property
    def size(self) -> int:
        """Distinct (field type, word) pairs: what the audit records as ``local_words``."""
        return sum(len(words) for _, words in self.entries)

    def __bool__(self) -> bool:
        return bool(self.entries or self.home)


def local_word_logp(count: int) -> float:
    """ln P of a word confirmed ``count`` times in the unit (see LOCAL_WORD_SHARE)."""
    return min(math.log(LOCAL_WORD_SHARE * max(count, 1)), LOCAL_MAX_LOGP)


def merged_lexicon(shipped: Lexicon, local: LocalLexicon | None) -> Lexicon:
    """The shipped lexicon of a field type plus the unit's confirmed words of that type."""
    counts = local.counts(shipped.field_type) if local else {}
    return shipped.with_words({word: local_word_logp(n) for word, n in counts.items()})
