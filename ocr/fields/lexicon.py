"""Per-field-type lexicons for constrained decoding (CTC beam search) and for the UI.

A word is a run of letters (``split_words``): digits, spaces and punctuation are boundaries.
Word lexicons answer ``is_prefix`` (prune a beam mid-word), ``is_word`` and ``word_score`` (a
log-probability, rescoring at word boundaries). Words are stored lowercase; lowercase,
Capitalised and UPPERCASE spellings are accepted. Date and registration-number lexicons have no
words: they check the whole (partial) string against a pattern with ``accepts_partial``/``accepts``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache, cached_property

from ocr.fields.assets import read_words
from ocr.fields.catalogs import SEX_VALUES, country_catalog, ethnicity_catalog, sex_catalog
from ocr.fields.gazetteer import get_gazetteer
from ocr.fields.names import given_names, middle_name_shares, surname_shares
from ocr.fields.place_text import UNIT_PREFIXES
from ocr.fields.syllables import has_word_casing, vietnamese_syllables
from ocr.fields.text import fold_key, strip_diacritics
from ocr.types import FIELD_TYPES

_WORD = re.compile(r"[^\W\d_]+")
# Prefixes of the written date shapes dd/mm/yyyy, dd/mm/yy, mm/yyyy, yyyy (any of / . - as separator).
_DATE_FULL = re.compile(r"\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})|\d{1,2}[/.\-]\d{4}|\d{4}")
_DATE_PARTIAL = re.compile(r"\d{0,4}|\d{1,2}[/.\-]\d{0,4}|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{0,4}")
_REGNO_FULL = re.compile(r"\d{1,6}(?:/\d{2,4})?")
_REGNO_PARTIAL = re.compile(r"\d{0,6}|\d{1,6}/\d{0,4}")

# Pseudo-counts: how much likelier a listed name is than an arbitrary valid syllable.
_SYLLABLE_COUNT = 1.0
_SAME_LOGP = 1e-9  # float slack when comparing a word's ln P with a bare syllable's
_NAME_COUNT = 50.0
_PLACE_WORD_WEIGHT = 5.0
_PHRASE_WORD_WEIGHT = 20.0  # words of the books' usual notes and causes of death, over any syllable
# A word read with no mark at all whose marked spelling the lexicon holds at least this many times
# as often ("Tran" beside "Trần", "Thon" beside "Thôn") is far more often that spelling with the
# marks the reader missed than a rare word written bare: an order of magnitude.
MISSED_MARKS_ODDS = 10.0


def split_words(text: str) -> list[str]:
    """Letter runs of a text, NFC ("Xã Tân-Lập, 12" -> ["Xã", "Tân", "Lập"])."""
    return _WORD.findall(unicodedata.normalize("NFC", text))


@dataclass(frozen=True)
class Lexicon:
    """What a decoder may say in one field type."""

    field_type: str
    word_logp: Mapping[str, float] = field(default_factory=dict)  # lowercase word -> ln P(word)
    phrases: tuple[str, ...] = ()  # whole values as written in the catalogs, for UI completion
    closed: bool = False  # True: only lexicon words are right (sex, ethnicity, nationality)
    oov_logp: float = -16.0  # score of a word outside the lexicon (open lexicons)
    # ln P of a word this lexicon knows only as a valid Vietnamese syllable (None: every word is the
    # field's own); see is_field_word.
    syllable_logp: float | None = None
    full_pattern: re.Pattern[str] | None = None  # date / registration_no: whole-value shape
    partial_pattern: re.Pattern[str] | None = None
    _prefixes: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    # Closed lexicons: fold keys of every complete value (canonical and variant spellings) and their prefixes.
    _value_keys: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    _value_prefixes: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    @classmethod
    def from_counts(
        cls, field_type: str, counts: Mapping[str, float], values: Iterable[str] = (),
        syllable_count: float | None = None, **kwargs
    ) -> Lexicon:
        """``syllable_count``: the pseudo-count every valid syllable was given (sets syllable_logp)."""
        total = sum(counts.values()) or 1.0
        logp = {w: math.log(c / total) for w, c in counts.items()}
        if syllable_count is not None:
            kwargs["syllable_logp"] = math.log(syllable_count / total)
        value_keys = frozenset(fold_key(v) for v in values)
        return cls(
            field_type,
            logp,
            _prefixes=_all_prefixes(logp),
            _value_keys=value_keys,
            _value_prefixes=_all_prefixes(value_keys),
            **kwargs,
        )

    @property
    def words(self) -> frozenset[str]:
        return frozenset(self.word_logp)

    @property
    def is_pattern(self) -> bool:
        return self.full_pattern is not None

    def is_word(self, word: str) -> bool:
        if self.is_pattern:
            return self.accepts(word)
        word = unicodedata.normalize("NFC", word)
        return has_word_casing(word) and word.lower() in self.word_logp

    def is_field_word(self, word: str) -> bool:
        """``word`` comes from this field's own sources (a listed name, a place or facility word, a
        phrase word, a word the unit confirmed), not merely from the list of valid syllables. Almost
        any misreading of Vietnamese handwriting is a valid syllable ("Pương", "Đạt Lão"), so only
        this says that a value reads like the field."""
        if not self.is_word(word):
            return False
        if self.syllable_logp is None:
            return True
        return self.word_logp[unicodedata.normalize("NFC", word).lower()] > self.syllable_logp + _SAME_LOGP

    @cached_property
    def _marked_logp(self) -> dict[str, float]:
        """Bare spelling -> ln P of the likeliest word with marks that bares to it."""
        best: dict[str, float] = {}
        for word, logp in self.word_logp.items():
            bare = strip_diacritics(word)
            if bare != word and logp > best.get(bare, -math.inf):
                best[bare] = logp
        return best

    def marks_likely_missed(self, word: str) -> bool:
        """``word`` has no marks, and a spelling of it with marks is MISSED_MARKS_ODDS times likelier."""
        if self.is_pattern:
            return False
        word = unicodedata.normalize("NFC", word).lower()
        if strip_diacritics(word) != word:
            return False
        marked = self._marked_logp.get(word)
        return marked is not None and marked - self.word_logp.get(word, self.oov_logp) >= math.log(MISSED_MARKS_ODDS)

    def is_prefix(self, prefix: str) -> bool:
        """True if some lexicon word starts with ``prefix`` (a partial word, letters only)."""
        if self.is_pattern:
            return self.accepts_partial(prefix)
        prefix = unicodedata.normalize("NFC", prefix)
        return has_word_casing(prefix) and prefix.lower() in self._prefixes

    def word_score(self, word: str) -> float:
        """ln P(word) for lexicon words; ``oov_logp`` (open) or -inf (closed) for others."""
        if self.is_pattern:
            return 0.0 if self.accepts(word) else -math.inf
        word = unicodedata.normalize("NFC", word)
        if has_word_casing(word) and (logp := self.word_logp.get(word.lower())) is not None:
            return logp
        return -math.inf if self.closed else self.oov_logp

    def accepts_partial(self, text: str) -> bool:
        """Could ``text`` still grow into a valid value? (pattern prefix, or catalog-value prefix)"""
        text = unicodedata.normalize("NFC", text).strip()
        if self.partial_pattern is not None:
            return bool(self.partial_pattern.fullmatch(text))
        if not self.closed:
            return True
        return _phrase_casing_ok(text) and fold_key(text) in self._value_prefixes

    def accepts(self, text: str) -> bool:
        """Is ``text`` a complete value this lexicon allows? (open lexicons accept any text)"""
        text = unicodedata.normalize("NFC", text).strip()
        if self.full_pattern is not None:
            return bool(self.full_pattern.fullmatch(text))
        return not self.closed or (_phrase_casing_ok(text) and fold_key(text) in self._value_keys)

    def with_words(self, extra_logp: Mapping[str, float]) -> Lexicon:
        """This lexicon plus more words (lowercase word -> ln P), added as probability mass.

        A word already known keeps the sum of both probabilities (``logaddexp``); the other
        words keep their scores, so the balance the shipped lexicon was tuned with is unchanged.
        Closed and pattern lexicons are returned as they are (their values are a fixed list).
        """
        if self.closed or self.is_pattern or not extra_logp:
            return self
        logp = dict(self.word_logp)
        for word, extra in extra_logp.items():
            logp[word] = _logaddexp(logp[word], extra) if word in logp else extra
        return replace(self, word_logp=logp, _prefixes=self._prefixes | _all_prefixes(extra_logp))


def _logaddexp(a: float, b: float) -> float:
    return max(a, b) + math.log1p(math.exp(-abs(a - b)))


def _phrase_casing_ok(text: str) -> bool:
    return all(has_word_casing(w) for w in split_words(text))


def _all_prefixes(words: Iterable[str]) -> frozenset[str]:
    return frozenset(w[:i] for w in words for i in range(len(w) + 1))


def _counts(words: Iterable[str], weight: float = 1.0, into: dict[str, float] | None = None) -> dict[str, float]:
    # Weighted pseudo-counts (e.g. a surname's share * 100) are fractional, so a float mapping, not a Counter.
    counts: dict[str, float] = into if into is not None else {}
    for text in words:
        for word in split_words(text):
            key = word.lower()
            counts[key] = counts.get(key, 0.0) + weight
    return counts


def _syllable_counts() -> dict[str, float]:
    return dict.fromkeys(vietnamese_syllables(), _SYLLABLE_COUNT)


def _person_name_lexicon() -> Lexicon:
    counts = _syllable_counts()
    _counts(given_names(), _NAME_COUNT, counts)
    for name, share in [*middle_name_shares().items(), *surname_shares().items()]:
        _counts([name], max(_NAME_COUNT, share * 100), counts)
    return Lexicon.from_counts("person_name", counts, syllable_count=_SYLLABLE_COUNT)


def _place_lexicon() -> Lexicon:
    gazetteer = get_gazetteer()
    names = gazetteer.unit_names()
    facilities = read_words("facility_phrases.txt")
    counts = _syllable_counts()
    _counts(names, _PLACE_WORD_WEIGHT, counts)
    _counts(UNIT_PREFIXES, _PLACE_WORD_WEIGHT * 100, counts)
    _counts(facilities, _PLACE_WORD_WEIGHT * 10, counts)
    return Lexicon.from_counts("place", counts, phrases=tuple(dict.fromkeys([*names, *facilities])),
                               syllable_count=_SYLLABLE_COUNT)


def _catalog_lexicon(field_type: str, spellings: list[str], canonical: tuple[str, ...]) -> Lexicon:
    counts = _counts(spellings)
    _counts(canonical, 10.0, counts)  # the catalog's own spelling is the likeliest
    return Lexicon.from_counts(field_type, counts, values=spellings, phrases=canonical, closed=True)


def _free_text_lexicon() -> Lexicon:
    counts = _counts(read_words("registry_phrases.txt"), _PHRASE_WORD_WEIGHT, _syllable_counts())
    return Lexicon.from_counts("free_text", counts, oov_logp=-12.0, syllable_count=_SYLLABLE_COUNT)


def _date_lexicon() -> Lexicon:
    return Lexicon("date", full_pattern=_DATE_FULL, partial_pattern=_DATE_PARTIAL)


def _registration_no_lexicon() -> Lexicon:
    return Lexicon("registration_no", full_pattern=_REGNO_FULL, partial_pattern=_REGNO_PARTIAL)


_BUILDERS = {
    "registration_no": _registration_no_lexicon,
    "date": _date_lexicon,
    "person_name": _person_name_lexicon,
    "sex": lambda: _catalog_lexicon("sex", [s for s, _ in sex_catalog().spellings()], SEX_VALUES),
    "ethnicity": lambda: _catalog_lexicon(
        "ethnicity", [s for s, _ in ethnicity_catalog().spellings()], ethnicity_catalog().values
    ),
    "nationality": lambda: _catalog_lexicon(
        "nationality", [s for s, _ in country_catalog().spellings()], country_catalog().values
    ),
    "place": _place_lexicon,
    "free_text": _free_text_lexicon,
}
assert set(_BUILDERS) == set(FIELD_TYPES), "every field type needs a lexicon"


@cache
def lexicon_for(field_type: str) -> Lexicon:
    """The lexicon of a field type (built on first use, then cached); unknown types: free text."""
    return _BUILDERS.get(field_type, _free_text_lexicon)()
