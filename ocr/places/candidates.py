"""What a place cell's reading may be rewritten to, according to the gazetteer and phrase lists.

The cell's lines are read as one text (a place often wraps onto a second line) and interpreted as
``[head phrase] [type word] name, [type word] name, ...``: the head is a health facility or
hamlet phrase ("Bệnh viện đa khoa tỉnh", "Trạm y tế xã", "Thôn", "Tại nhà"), type words are
"xã", "huyện", "tỉnh"... and names are unit names from the commune up. Each ``Interpretation``
proposes edits of the reading (a misread unit name replaced by a near gazetteer name, a misread
type or phrase word fixed, a comma between segments, a capital first letter) and scores any
subset of them with a bounded bonus: a name of the gazetteer, a commune-district-province path
that exists (``ocr.places.index``), a listed phrase... Whether an edit is made is decided on CTC
evidence by ``ocr.places.decoding``.

Names are shortlisted with rapidfuzz, top-down: provinces anywhere, then districts of the
recognised provinces (of the whole country only where a type word announces one or no province
was read), then communes likewise; no CTC pass is made here. When the book's unit is known, the
names of its home area (``ocr.places.index.HomeArea``: the unit, its district and province, the
other communes of the district) are looked up at a larger edit distance too, and a name of it
earns a small bonus: most places a commune's clerk writes lie there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import product
from typing import NamedTuple

from rapidfuzz.distance import Levenshtein

from ocr.fields.assets import read_words
from ocr.fields.place_text import accentless_key, place_key
from ocr.places.index import LEVEL_PREFIXES, LEVELS, HomeArea, NameScope, PlaceIndex
from ocr.read.decoding import MAX_OVERRIDE_LOG_RATIO, NON_WORD_MAX_OVERRIDE

# Bonuses in nats (log-likelihood units), counted when the final text has the feature.
NAME_BONUS = 2.0  # a segment names a gazetteer unit of its level
LINK_BONUS = 2.0  # per pair of consecutive levels that fit (commune in district, district in province)
TYPE_WORD_BONUS = 2.0  # "huyện" before a district name
# A name of the book's home area: a prior, not evidence (most places of a commune's book lie in its
# district, but any place may be written), so no larger than a gazetteer name's own bonus.
HOME_BONUS = 2.0
# Conventions rather than information, followed whenever the evidence rule allows (what is clearly
# written otherwise stays): capitals (the value's first letter, unit names), the comma between
# segments (restored where the frames show some mark: a period, a faint comma), and the words of
# a fixed phrase ("Trạm y tế", not "Trạm y tổ").
CASE_BONUS = MAX_OVERRIDE_LOG_RATIO
COMMA_BONUS = MAX_OVERRIDE_LOG_RATIO
# A mark read as a period (or ";", ":") where the address puts its comma: the frames saw a mark, and
# at a pen's size the two differ by a tail a few pixels long ("Vạn Thắng. Vạn Ninh" scored the comma
# 3.6 nats below the period). A period between an address's units is no convention at all, so the
# comma is taken on the wider evidence bound of a misread non-word (ocr.places.decoding._edit_limit).
MARK_AS_COMMA_BONUS = NON_WORD_MAX_OVERRIDE
MARKS_FOR_COMMA = frozenset(".;:")
PHRASE_BONUS = MAX_OVERRIDE_LOG_RATIO
SPACE_BONUS = MAX_OVERRIDE_LOG_RATIO  # "Tổ 3", "Phường 1": a number is a word of its own

# Hamlet-level words: a hamlet name (not in the gazetteer, kept as written) follows them.
HAMLET_WORDS = ("thôn", "ấp", "xóm", "tổ", "tổ dân phố", "khu phố", "khối", "khóm", "bản", "buôn", "làng", "sóc")
# Heads after which the unit path is a new segment ("Tại nhà, Vạn Long").
COMMA_HEADS = ("tại nhà", "tại nhà riêng")
LINE_BREAK = "\n"  # marks the end of a line in a cell text; a space for the joined evidence
MAX_NAME_WORDS = 5  # "Bà Rịa - Vũng Tàu"
OPTIONS_PER_LEVEL = 4  # names kept per level (plus the exactly written ones)
GLOBAL_NEAR_NAMES = 10  # names looked up per span over the whole country (many lie one edit away)
SCOPED_DISCOUNT = 0.75  # edits forgiven, for ranking, to a name inside the recognised hierarchy
HOME_DISCOUNT = 1.0  # likewise for a name of the book's home area
HOME_SHARE = 0.45  # accentless edits per letter a home name may be away ("Oạn Minh" ~ "Vạn Ninh")
HOME_NEAR_NAMES = 3  # home names looked up per span and level
MAX_INTERPRETATIONS = 10  # structures kept after the cheap ranking (each costs CTC passes)
ROUGH_EDIT_COST = 2.0  # nats per edit of a name, for that ranking only

# Type words no unit name contains ("Thị", "Thành" do: "Phường Thị Cầu", "Xã Thành Công").
_NEVER_IN_NAMES = frozenset({"xã", "huyện", "tỉnh", "phường", "quận"})
_WORD = re.compile(r"[^\s,.;:]+")
_PUNCTUATION = re.compile(r"[,.;:]")
_LETTERS_DIGITS = re.compile(r"([^\W\d_]+)(\d+)")
SEPARATOR_EDITS = ("comma", "space")


@dataclass(frozen=True)
class CellText:
    """A cell's reading as words and the separators around them (``seps[k]`` precedes
    ``words[k]``; ``seps[-1]`` trails); LINE_BREAK inside a separator ends a line."""

    words: tuple[str, ...]
    seps: tuple[str, ...]

    @classmethod
    def of_lines(cls, line_texts: Sequence[str]) -> CellText:
        text = LINE_BREAK.join(line_texts)
        words, seps, position = [], [], 0
        for match in _WORD.finditer(text):
            seps.append(text[position : match.start()])
            # "Tổ3" holds two words, a hamlet word and its number, run together.
            glued = _LETTERS_DIGITS.fullmatch(match.group())
            for k, word in enumerate(glued.groups() if glued else [match.group()]):
                if k:
                    seps.append("")
                words.append(word)
            position = match.end()
        seps.append(text[position:])
        return cls(tuple(words), tuple(seps))

    def span(self, start: int, end: int) -> str:
        return " ".join(self.words[start:end])


class Edit(NamedTuple):
    """Replace words ``start:end`` by ``text`` (kind name/type/phrase), the separator before word
    ``start`` by ``text`` (kind comma or space), or capitalise the first letter (kind capital).
    (A tuple: edits are hashed and compared many times per cell.)"""

    start: int
    end: int
    kind: str
    text: str


def render(cell: CellText, edits: Iterable[Edit]) -> str:
    """The cell text with ``edits`` applied (LINE_BREAK where a line ends)."""
    edits = list(edits)
    spans = {e.start: e for e in edits if e.end > e.start}
    seps = {e.start: e.text for e in edits if e.kind in SEPARATOR_EDITS}
    out = [seps.get(0, cell.seps[0])]
    i = 0
    while i < len(cell.words):
        edit = spans.get(i)
        if edit is None:
            out.append(cell.words[i])
            i += 1
        else:
            out.append(edit.text)
            i = edit.end
        out.append(seps.get(i, cell.seps[i]))
    text = "".join(out)
    if any(e.kind == "capital" for e in edits):
        first = next((k for k, ch in enumerate(text) if ch.isalpha()), None)
        if first is not None:
            text = text[:first] + text[first].upper() + text[first + 1 :]
    return text


def _cased_like(word: str, written: str) -> str:
    """``word`` with the first letter's case of the ``written`` word ("đa" for "da", "Huyện" for "Huyên")."""
    if written[:1].isupper():
        return word[:1].upper() + word[1:]
    return word[:1].lower() + word[1:]


_TYPE_WORD_PARTS = frozenset(w for prefixes in LEVEL_PREFIXES.values() for p in prefixes for w in p.split())


def _phrase_word(canonical: str, written: str, position: int) -> str:
    """How a phrase word is proposed: a type word inside the text in lower case ("tỉnh", not
    the misread "Linh"'s capital), other words with the written word's first-letter case."""
    if position > 0 and canonical.lower() in _TYPE_WORD_PARTS:
        return canonical.lower()
    return _cased_like(canonical, written)


@lru_cache(maxsize=65536)
def _word_near(written: str, canonical: str) -> bool:
    """A written word that may be a misreading of a type/phrase word ("vã" ~ "xã", "linh" ~ "tỉnh")."""
    w, c = written.lower(), canonical.lower()
    if w == c:
        return True
    if any(ch.isdigit() for ch in w):
        return False
    accented = Levenshtein.distance(w, c)
    return accented <= (1 if len(c) <= 2 else 2) and Levenshtein.distance(accentless_key(w), accentless_key(c)) <= 1


def _replace_words(cell: CellText, start: int, end: int, new_words: Sequence[str], kind: str) -> Edit | None:
    """An edit writing ``new_words`` over words ``start:end``, keeping each inner separator (and
    so the line breaks) when the word counts agree; None when nothing changes or a line break
    would have nowhere to go."""
    inner = list(cell.seps[start + 1 : end])
    if len(new_words) == end - start:
        text = new_words[0] + "".join(s + w for s, w in zip(inner, new_words[1:], strict=True))
    elif any(LINE_BREAK in s for s in inner):
        return None
    else:
        text = " ".join(new_words)
    if tuple(new_words) == cell.words[start:end]:
        return None
    return Edit(start, end, kind, text)


@dataclass(frozen=True)
class PhraseMatch:
    """Words ``start:end`` read as a phrase (type word, facility or hamlet phrase); ``words``
    are the phrase's words cased like the written ones; ``level`` is the level of the unit name
    a type word announces ("ward" after "xã"), "hamlet" after a hamlet word, else None."""

    start: int
    end: int
    words: tuple[str, ...]
    level: str | None
    comma_after: bool = False  # "Tại nhà, ..."; a hamlet name is followed by a comma too

    def edits(self, cell: CellText, kind: str) -> list[Edit]:
        """One edit per misread word (each word must pay for itself); one for the whole phrase
        when its words were read run together or split ("Trạmy tế", "Trạm yế")."""
        if len(self.words) != self.end - self.start:
            return [Edit(self.start, self.end, kind, " ".join(self.words))]
        out = []
        for k, word in enumerate(self.words):
            written = cell.words[self.start + k]
            if word != written:
                out.append(Edit(self.start + k, self.start + k + 1, kind, word))
        return out


@dataclass(frozen=True)
class NameOption:
    """Words ``start:end`` read as the unit name ``name`` of ``level``."""

    start: int
    end: int
    level: str
    name: str
    cost: float  # edit distance (diacritics and case count half) for ranking
    loss: float | None = None  # log-likelihood lost by writing the name, once measured on the frames

    @property
    def rough_loss(self) -> float:
        """Nats the name likely costs: measured, or ~ROUGH_EDIT_COST per edit."""
        return self.loss if self.loss is not None else ROUGH_EDIT_COST * self.cost

    def written_as_name(self, cell: CellText) -> bool:
        """Written as the gazetteer spells it, up to capitals and old/new tone placement."""
        return place_key(cell.span(self.start, self.end)) == place_key(self.name)

    def edit(self, cell: CellText) -> Edit | None:
        """The name as the gazetteer writes it; a name written with the other tone placement
        ("Hoà" / "Hòa") keeps its spelling and only takes the gazetteer's capitals."""
        written = cell.words[self.start : self.end]
        words = self.name.split(" ")
        if self.written_as_name(cell) and len(words) == len(written):
            words = [_cased_like(w, g) for w, g in zip(written, words, strict=True)]
        return _replace_words(cell, self.start, self.end, words, "name")


@cache
def _head_phrases() -> tuple[tuple[tuple[str, ...], str | None, bool], ...]:
    """(words, level announced, comma after) of facility and hamlet phrases, longest first."""
    phrases: dict[tuple[str, ...], tuple[str | None, bool]] = {}
    for phrase in [*read_words("facility_phrases.txt"), *HAMLET_WORDS]:
        words = tuple(phrase.split())
        lowered = phrase.lower()
        if lowered in HAMLET_WORDS:
            phrases.setdefault(words, ("hamlet", True))
        elif lowered in COMMA_HEADS:
            phrases.setdefault(words, (None, True))
        else:
            last = next((lv for lv in LEVELS if lowered.endswith(tuple(" " + p for p in LEVEL_PREFIXES[lv]))), None)
            phrases.setdefault(words, (last, False))
    return tuple(sorted(((w, lv, c) for w, (lv, c) in phrases.items()), key=lambda p: -len(p[0])))


def head_matches(cell: CellText) -> list[PhraseMatch]:
    """Facility/hamlet phrases the cell may start with, best (longest, nearest) first: word by
    word, or, for phrases of several words, ignoring where the spaces were read."""
    found: dict[tuple[int, tuple[str, ...]], PhraseMatch] = {}
    for words, level, comma in _head_phrases():
        n = len(words)
        if n <= len(cell.words) and not any(_PUNCTUATION.search(s) for s in cell.seps[1:n]):
            written = cell.words[:n]
            if all(_word_near(w, c) for w, c in zip(written, words, strict=True)):
                cased = tuple(_phrase_word(c, w, k) for k, (w, c) in enumerate(zip(written, words, strict=True)))
                found.setdefault((n, tuple(c.lower() for c in cased)), PhraseMatch(0, n, cased, level, comma))
                continue
        for m in (n - 1, n + 1) if n > 1 else ():
            if 0 < m <= len(cell.words) and _run_together_near(cell, m, words):
                joined = "".join(cell.words[:m])
                cased = (_cased_like(words[0], joined), *(_case_as_in(c, joined) for c in words[1:]))
                found.setdefault((n, tuple(c.lower() for c in cased)), PhraseMatch(0, m, cased, level, comma))
    return sorted(found.values(), key=lambda m: (-len(m.words), _phrase_distance(cell, m)))[:3]


def _case_as_in(word: str, written: str) -> str:
    """A phrase word capitalised only if the words read run together show it so ("Bạch Mai")."""
    capitalised = word[:1].upper() + word[1:]
    return capitalised if capitalised in written else word[:1].lower() + word[1:]


def _run_together_near(cell: CellText, m: int, words: tuple[str, ...]) -> bool:
    """Do the first ``m`` written words, spaces ignored, spell ``words`` but for a letter or two?"""
    if any(_PUNCTUATION.search(s) or LINE_BREAK in s for s in cell.seps[1:m]):
        return False
    written, phrase = "".join(cell.words[:m]).lower(), "".join(words).lower()
    return Levenshtein.distance(written, phrase) <= max(1, len(phrase) // 6)


def _phrase_distance(cell: CellText, match: PhraseMatch) -> int:
    written = " ".join(cell.words[match.start : match.end]).lower()
    return Levenshtein.distance(written, " ".join(match.words).lower())


def type_word_matches(cell: CellText) -> dict[int, list[PhraseMatch]]:
    """Type words ("xã", "thị trấn", "huyện"...) the cell may hold, keyed by the index of the word
    after them, nearest first."""
    by_end: dict[int, list[tuple[int, PhraseMatch]]] = {}
    for level in LEVELS:
        for prefix in LEVEL_PREFIXES[level]:
            words = tuple(prefix.split())
            n = len(words)
            for start in range(len(cell.words) - n):
                if any(_PUNCTUATION.search(s) for s in cell.seps[start + 1 : start + n]):
                    continue
                written = cell.words[start : start + n]
                if all(_word_near(w, c) for w, c in zip(written, words, strict=True)):
                    cased = tuple(
                        _phrase_word(c, w, start + k) for k, (w, c) in enumerate(zip(written, words, strict=True))
                    )
                    match = PhraseMatch(start, start + n, cased, level)
                    by_end.setdefault(start + n, []).append((_phrase_distance(cell, match), match))
    return {end: [m for _, m in sorted(found, key=lambda dm: dm[0])] for end, found in by_end.items()}


def _fuzzy_tolerance(text: str, scoped: bool) -> int:
    """Accentless edits allowed between a span and a unit name: loose among the few names the
    hierarchy leaves (the districts of a recognised province), tight over the whole country."""
    length = len(accentless_key(text))
    if scoped:
        return max(2, round(0.35 * length))
    return 1 if length <= 7 else 2


def _home_tolerance(text: str) -> int:
    """Accentless edits allowed between a span and a name of the home area (a few dozen names
    that the writer most likely meant): looser still."""
    return max(2, round(HOME_SHARE * len(accentless_key(text))))


def _name_spans(cell: CellText, heads: Sequence[PhraseMatch]) -> list[tuple[int, int, bool]]:
    """(start, end, fuzzy) word spans that may hold a unit name: not across punctuation, not in
    a head phrase, not over a type word; names with digits ("Phường 1") only exactly."""
    # Words of a head phrase written exactly ("Bệnh viện đa khoa") are not a unit name.
    first = max((h.end for h in heads if h.end > 1 and _phrase_distance(cell, h) == 0), default=0)
    spans = []
    for start in range(first, len(cell.words)):
        for end in range(start + 1, min(len(cell.words), start + MAX_NAME_WORDS) + 1):
            if any(_PUNCTUATION.search(s) for s in cell.seps[start + 1 : end]):
                break
            if cell.words[end - 1].lower() in _NEVER_IN_NAMES:
                break
            fuzzy = not any(ch.isdigit() for w in cell.words[start:end] for ch in w)
            spans.append((start, end, fuzzy))
    return spans


def name_options(
    cell: CellText,
    index: PlaceIndex,
    heads: Sequence[PhraseMatch],
    type_words: dict[int, list[PhraseMatch]],
    home: HomeArea | None = None,
) -> list[NameOption]:
    """Unit names the cell's word spans may be (mis)readings of, top-down through the hierarchy:
    provinces anywhere; districts of the recognised provinces anywhere, or of the whole country
    where a type word announces one or no province was found; communes likewise. The names of
    the ``home`` area are looked up at every span, level by level, further away."""
    spans = _name_spans(cell, heads)
    options: list[NameOption] = []

    def add(scope: NameScope, start: int, end: int, scoped: bool, in_hierarchy: bool = False) -> None:
        text = cell.span(start, end)
        # Over the whole country many names lie one edit away: keep more of them.
        for match in scope.near(text, _fuzzy_tolerance(text, scoped), limit=2 if scoped else GLOBAL_NEAR_NAMES):
            # A name the recognised hierarchy leads to is a likelier misreading than one anywhere.
            cost = match.distance + 0.5 * match.accent_distance - (SCOPED_DISCOUNT if in_hierarchy else 0.0)
            options.append(NameOption(start, end, scope.level, match.name, max(cost, 0.1)))

    def add_home(level: str) -> None:
        if home is None or not home.at(level):
            return
        scope = index.scope(level, home.at(level))
        for start, end, fuzzy in spans:
            if not fuzzy or (level == "ward" and end - start > 3):
                continue
            text = cell.span(start, end)
            for match in scope.near(text, _home_tolerance(text), limit=HOME_NEAR_NAMES):
                cost = match.distance + 0.5 * match.accent_distance - HOME_DISCOUNT
                options.append(NameOption(start, end, level, match.name, max(cost, 0.1)))

    for start, end, fuzzy in spans:
        for level in LEVELS:
            if name := index.exact(cell.span(start, end), level):
                options.append(NameOption(start, end, level, name, 0.0))
        if fuzzy:
            add(index.scope("province"), start, end, scoped=True)
    add_home("province")
    provinces = {p for o in options if o.level == "province" for p in index.province_ids[o.name]}
    district_scope = index.scope("district", index.districts_of(provinces)) if provinces else None
    for start, end, fuzzy in spans:
        if not fuzzy:
            continue
        if district_scope is not None:
            add(district_scope, start, end, scoped=True, in_hierarchy=True)
        if district_scope is None or _announced(start, "district", heads, type_words):
            add(index.scope("district"), start, end, scoped=False)
    add_home("district")
    districts = {d for o in options if o.level == "district" for d in index.district_ids[o.name]}
    districts = {d for d in districts if d[0] in provinces} or districts
    ward_scope = index.scope("ward", index.wards_of(districts)) if districts else None
    first = {0, *(h.end for h in heads)}
    for start, end, fuzzy in spans:
        if not fuzzy:
            continue
        if ward_scope is not None:
            add(ward_scope, start, end, scoped=True, in_hierarchy=True)
        announced = _announced(start, "ward", heads, type_words)
        if end - start <= 3 and (announced or (ward_scope is None and start in first)):
            add(index.scope("ward"), start, end, scoped=False)
    add_home("ward")
    return list({(o.start, o.end, o.level, o.name): o for o in sorted(options, key=lambda o: -o.cost)}.values())


def _announced(start: int, level: str, heads: Sequence[PhraseMatch], type_words: dict[int, list[PhraseMatch]]) -> bool:
    """Does a type word (or a head phrase ending in one) of ``level`` end right before word ``start``?"""
    return any(m.level == level for m in type_words.get(start, [])) or any(
        h.end == start and h.level == level for h in heads
    )


def best_per_level(options: list[NameOption]) -> list[NameOption]:
    """The OPTIONS_PER_LEVEL names per level likeliest to be what is written (by measured loss,
    else by edit distance), plus every exactly written one."""
    kept: list[NameOption] = []
    for level in LEVELS:
        ranked = sorted((o for o in options if o.level == level), key=lambda o: (o.rough_loss, o.cost, o.start))
        kept.extend(o for k, o in enumerate(ranked) if k < OPTIONS_PER_LEVEL or o.cost == 0)
    return kept


def crowded(options: list[NameOption]) -> bool:
    """Are there more near names at some level than are kept? (Then edit distance alone, which
    cannot tell "Cần Thạnh" from "Vạn Thạnh" for "Cạn Thạnh", would choose among them.)"""
    return any(sum(o.level == level and o.cost > 0 for o in options) > OPTIONS_PER_LEVEL for level in LEVELS)


def exactly_written(options: list[NameOption]) -> list[NameOption]:
    return [o for o in options if o.cost == 0]


@dataclass(frozen=True)
class Feature:
    """Something the gazetteer/phrase lists recognise, present once all ``needs`` edits are applied."""

    bonus: float
    needs: frozenset[Edit]


def _feature(bonus: float, edits: Iterable[Edit | None]) -> Feature:
    return Feature(bonus, frozenset(e for e in edits if e is not None))


class Interpretation:
    """One reading of the cell's structure: an optional head phrase, then unit names from the
    smallest level up, each with the type word written before it (if any); the edits it
    proposes and the bonus of any subset of them."""

    def __init__(
        self,
        cell: CellText,
        index: PlaceIndex,
        head: PhraseMatch | None,
        units: Sequence[tuple[NameOption, PhraseMatch | None]],
        home: HomeArea | None = None,
    ) -> None:
        self.index = index
        self.head = head
        self.units = tuple(units)
        self.features: list[Feature] = []
        self.name_edits: dict[str, Edit | None] = {}
        edits: list[Edit] = []
        if head is not None:
            head_edits = head.edits(cell, "phrase")
            edits.extend(head_edits)
            self.features.append(_feature(PHRASE_BONUS, head_edits))
        for n, (option, type_word) in enumerate(self.units):
            segment_start = type_word.start if type_word is not None else option.start
            if type_word is not None:
                type_edits = type_word.edits(cell, "type")
                edits.extend(type_edits)
                self.features.append(_feature(TYPE_WORD_BONUS, type_edits))
            name_edit = option.edit(cell)
            edits.extend([name_edit] if name_edit else [])
            # A name written as the gazetteer spells it is recognised whatever its capitals; the
            # capitals themselves are a separate feature.
            self.name_edits[option.level] = None if option.written_as_name(cell) else name_edit
            self.features.append(_feature(NAME_BONUS, [self.name_edits[option.level]]))
            if home is not None and home.has(option.level, option.name):
                self.features.append(_feature(HOME_BONUS, [self.name_edits[option.level]]))
            self.features.append(_feature(CASE_BONUS, [name_edit]))
            if _comma_expected(n, segment_start, head):
                comma = _comma_edit(cell, segment_start)
                edits.extend([comma] if comma else [])
                bonus = MARK_AS_COMMA_BONUS if comma is not None and replaces_mark(cell, comma) else COMMA_BONUS
                self.features.append(_feature(bonus, [comma]))
        for word in range(1, len(cell.words)):
            if cell.seps[word] == "":  # a number run into the word before it
                space = Edit(word, word, "space", " ")
                edits.append(space)
                self.features.append(_feature(SPACE_BONUS, [space]))
        first = next((ch for ch in render(cell, ()) if ch.isalpha()), "")
        capital = Edit(0, 0, "capital", "") if first.islower() else None
        edits.extend([capital] if capital else [])
        self.features.append(_feature(CASE_BONUS, [capital]))
        self.edits = tuple(dict.fromkeys(edits))

    def bonus(self, applied: frozenset[Edit]) -> float:
        total = sum(f.bonus for f in self.features if f.needs <= applied)
        path = {
            option.level: option.name
            for option, _ in self.units
            if (edit := self.name_edits.get(option.level)) is None or edit in applied
        }
        if len(path) < 2:
            return total
        return total + LINK_BONUS * self.index.links(*(path.get(level) for level in LEVELS))


def _comma_expected(n: int, segment_start: int, head: PhraseMatch | None) -> bool:
    """A comma separates unit segments, and a hamlet or "Tại nhà" from the first one; a facility
    phrase runs straight into its unit ("Trạm y tế xã Đại Hiệp")."""
    if segment_start == 0:
        return False
    return n > 0 or head is None or head.comma_after


def _comma_edit(cell: CellText, word: int) -> Edit | None:
    """A comma in the separator before ``word`` (its whitespace and line break kept)."""
    sep = cell.seps[word]
    if "," in sep:
        return None
    space = "".join(ch for ch in sep if ch.isspace()) or " "
    return Edit(word, word, "comma", "," + space)


def replaces_mark(cell: CellText, edit: Edit) -> bool:
    """The comma ``edit`` takes the place of a mark read as a period (or ";", ":")."""
    return edit.kind == "comma" and bool(MARKS_FOR_COMMA.intersection(cell.seps[edit.start]))


def _path_units(
    chosen: Sequence[NameOption], head: PhraseMatch | None, begin: int, type_words: dict[int, list[PhraseMatch]]
) -> list[tuple[NameOption, PhraseMatch | None]] | None:
    """Names in reading order, each with the type word before it; None if they overlap or the
    head announces another level (or a hamlet name, which must come first)."""
    units: list[tuple[NameOption, PhraseMatch | None]] = []
    previous_end = begin
    for option in chosen:
        if option.start < previous_end:
            return None
        if head is not None and head.level is not None and option.start == head.end and not units:
            if head.level != option.level:
                return None
            units.append((option, None))
        else:
            type_word = next(
                (m for m in type_words.get(option.start, []) if m.level == option.level and m.start >= previous_end),
                None,
            )
            units.append((option, type_word))
        previous_end = option.end
    return units or None


def _rough_rank(
    units: Sequence[tuple[NameOption, PhraseMatch | None]], index: PlaceIndex, home: HomeArea | None = None
) -> float:
    """Cheap ranking of a path (no CTC pass): its bonuses less what its names likely cost."""
    path = {option.level: option.name for option, _ in units}
    links = index.links(*(path.get(level) for level in LEVELS))
    at_home = sum(home is not None and home.has(option.level, option.name) for option, _ in units)
    return sum(NAME_BONUS - option.rough_loss for option, _ in units) + LINK_BONUS * links + HOME_BONUS * at_home


def interpretations(
    cell: CellText,
    index: PlaceIndex,
    keep: Callable[[list[NameOption]], list[NameOption]] = best_per_level,
    home: HomeArea | None = None,
) -> list[Interpretation]:
    """The likeliest-looking structures of the cell (at most MAX_INTERPRETATIONS), built from the
    unit names ``keep`` retains of those near the cell's spans (and the ``home`` area's)."""
    heads = head_matches(cell)
    type_words = type_word_matches(cell)
    options = keep(name_options(cell, index, heads, type_words, home))
    ranked: list[tuple[float, PhraseMatch | None, list[tuple[NameOption, PhraseMatch | None]]]] = []
    for head in [None, *heads]:
        begin = head.end if head is not None else 0
        by_level = [[o for o in options if o.level == level and o.start >= begin] for level in LEVELS]
        ranked.append((0.0 if head is None else PHRASE_BONUS, head, []))
        for path in product(*([None, *level_options] for level_options in by_level)):
            units = _path_units([o for o in path if o is not None], head, begin, type_words)
            if units:
                ranked.append((_rough_rank(units, index, home), head, units))
    ranked.sort(key=lambda r: -r[0])
    return [Interpretation(cell, index, head, units, home) for _, head, units in ranked[:MAX_INTERPRETATIONS]]


def is_settled(cell: CellText, interpretation: Interpretation) -> bool:
    """No edit proposed, every word is a head, type or unit name word and the names form a path
    of the gazetteer: nothing to rescore."""
    if interpretation.edits:
        return False
    names = {option.level: option.name for option, _ in interpretation.units}
    if len(names) > 1 and interpretation.index.links(*(names.get(level) for level in LEVELS)) < len(names) - 1:
        return False
    head = interpretation.head
    covered = set(range(head.end)) if head is not None else set()
    for option, type_word in interpretation.units:
        covered.update(range(option.start, option.end))
        if type_word is not None:
            covered.update(range(type_word.start, type_word.end))
    return len(covered) == len(cell.words)


def strays_from_home(cell: CellText, interpretation: Interpretation, index: PlaceIndex, home: HomeArea) -> bool:
    """Does the interpretation read a name outside the home area that a home name lies near
    ("Vạn Phúc", a Hà Nội commune, in a Vạn Ninh book that has "Vạn Phú")? Such a reading, though
    an existing place, is weighed against the home name on the frames."""
    for option, _ in interpretation.units:
        if home.at(option.level) and not home.has(option.level, option.name):
            text = cell.span(option.start, option.end)
            if index.scope(option.level, home.at(option.level)).near(text, _home_tolerance(text), limit=1):
                return True
    return False
