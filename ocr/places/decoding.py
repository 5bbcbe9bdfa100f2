"""Place cells: gazetteer-aware rescoring of the per-line readings of one cell.

A word lexicon cannot tell "Vạn Minh" from "Vạn Ninh" (both are Vietnamese words); the gazetteer
can, and it knows more: "Đại Nghĩa, Đại Lộc, Quảng Nam" is a commune, its district and its
province, a path that exists. ``ocr.places.candidates`` proposes the edits such knowledge
suggests; this module decides which are made, on the evidence of the frames.

Evidence rule, as for every lexicon in this project: the CTC likelihood of the whole candidate
text (all lines of the cell joined) plus the bounded bonus of what the gazetteer recognises;
each single edit must pay for itself and must not make the text more than
MAX_OVERRIDE_LOG_RATIO less likely (a much likelier legible reading is kept "exactly as
written"; misread non-words and capitals on the wider bound of ``ocr.read.decoding``). When the
gazetteer prefers a reading the rule refuses, the reading stays, the preferred one becomes an
alternative and the disagreement lowers the confidence. A rewritten line keeps its previous
reading as an alternative and is marked ``used_lexicon``.

The book's home area (``ocr.places.index.HomeArea``), when given, adds its names as candidates
further away and a bounded bonus for them (``ocr.places.candidates.HOME_BONUS``); the rule above is
unchanged, so a legible reading elsewhere in the country stays, and at most offers the home
name as an alternative.

Cost: cells read as an existing path with nothing to fix take no CTC pass at all (unless it names,
outside the home area, a place a home name lies near). Otherwise one batched pass
(``ocr.read.ctc_batch``) scores every single edit (and pairs of touching edits) of all
interpretations, and a second one the few best combinations with each of their edits left out;
where more unit names lie equally near a span than are kept (a commune name over the whole
country), a first pass ranks them by the frames. Texts are scored once per cell.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import combinations

from ocr.fields.syllables import is_vietnamese_syllable
from ocr.places.candidates import (
    LINE_BREAK,
    SEPARATOR_EDITS,
    CellText,
    Edit,
    Interpretation,
    NameOption,
    best_per_level,
    crowded,
    exactly_written,
    interpretations,
    is_settled,
    render,
    replaces_mark,
    strays_from_home,
)
from ocr.places.index import LEVELS, HomeArea, place_index
from ocr.read.ctc_batch import batch_text_log_likelihood, joint_text_log_likelihood
from ocr.read.decoding import (
    MAX_OVERRIDE_LOG_RATIO,
    NEG_INF,
    NON_WORD_MAX_OVERRIDE,
    DecodedLine,
    join_lines,
    reading_for_text,
)
from ocr.read.engines.base import LineLogProbs

EXACT_CANDIDATES = 4  # combinations scored on the whole text after the single-edit pass


def _edit_limit(cell: CellText, edit: Edit, home: HomeArea | None = None) -> float:
    """How many nats likelier the text without ``edit`` may be and the edit still be made. As in
    ocr.read.decoding: a written "word" that is no Vietnamese syllable is a misread, capitals where
    places take them are no respelling, and a period between units is a comma misread; all three on
    weaker evidence. So is a name of the book's home
    area read as a name that no unit anywhere bears ("Vạn Minh" in a Vạn Ninh book): the place
    counterpart of a non-word."""
    wider = max(MAX_OVERRIDE_LOG_RATIO, NON_WORD_MAX_OVERRIDE)
    if edit.kind == "capital" or replaces_mark(cell, edit):
        return wider
    if edit.end == edit.start:
        return MAX_OVERRIDE_LOG_RATIO
    written = cell.words[edit.start : edit.end]
    if " ".join(written).lower() == edit.text.replace(LINE_BREAK, " ").lower():
        return wider
    if any(not _possible(w) for w in written) and all(_possible(w) for w in edit.text.split()):
        return wider
    if home is not None and edit.kind == "name" and _home_name_for_no_unit(" ".join(written), edit, home):
        return wider
    return MAX_OVERRIDE_LOG_RATIO


def _home_name_for_no_unit(written: str, edit: Edit, home: HomeArea) -> bool:
    index = place_index()
    name = edit.text.replace(LINE_BREAK, " ")
    return any(home.has(level, name) for level in LEVELS) and not any(index.exact(written, lv) for lv in LEVELS)


def _possible(word: str) -> bool:
    return word == "-" or any(ch.isdigit() for ch in word) or is_vietnamese_syllable(word)


@dataclass(frozen=True)
class _Scored:
    applied: frozenset[Edit]
    interpretation: Interpretation
    log_likelihood: float = NEG_INF

    @property
    def score(self) -> float:
        return self.log_likelihood + self.interpretation.bonus(self.applied)


@dataclass(frozen=True)
class _Gains:
    """Log-likelihood change of each single edit of the reading, and the interaction of edits that
    touch (a name and the comma after it share frames: "Vạn Phúc Vạn" -> "Vạn Phú, Vạn")."""

    single: dict[Edit, float]
    interaction: dict[Edit, dict[Edit, float]]  # symmetric: edit -> touching edit -> interaction

    def total(self, applied: frozenset[Edit]) -> float:
        pairs = sum(v for e in applied for other, v in self.interaction.get(e, {}).items() if other in applied)
        return sum(self.single[e] for e in applied) + pairs / 2

    def share(self, edit: Edit, applied: frozenset[Edit]) -> float:
        """What ``edit`` adds to ``total(applied)`` (it is in ``applied``)."""
        pairs = self.interaction.get(edit, {})
        return self.single[edit] + sum(v for other, v in pairs.items() if other in applied and other != edit)


def _touching(edits: Sequence[Edit]) -> list[tuple[Edit, Edit]]:
    """Pairs of edits whose texts meet: a word edit and the separator after or before it, the
    capital and the first word."""
    pairs = []
    for a, b in combinations(sorted(edits), 2):
        if a.kind == "capital" and b.start == 0 and b.end > 0:
            pairs.append((a, b))
        elif (a.end > a.start and b.kind in SEPARATOR_EDITS and b.start == a.end) or (
            a.kind in SEPARATOR_EDITS and b.end > b.start and b.start == a.start
        ):
            pairs.append((a, b))
    return pairs


def _select(
    cell: CellText, interpretation: Interpretation, gains: _Gains, rule: bool, home: HomeArea | None
) -> tuple[float, frozenset[Edit]]:
    """(proxy score, edits): all the interpretation's edits, then the edit that pays least (or,
    with ``rule``, one the evidence rule refuses) removed until each one pays for itself."""
    applied = frozenset(interpretation.edits)
    while True:
        bonus = interpretation.bonus(applied)
        worst, worst_margin = None, 0.0
        for edit in applied:
            share = gains.share(edit, applied)
            margin = share + bonus - interpretation.bonus(applied - {edit})
            if rule and -share > _edit_limit(cell, edit, home):
                margin = min(margin, share)
            if margin <= worst_margin:
                worst, worst_margin = edit, margin
        if worst is None:
            return gains.total(applied) + bonus, applied
        applied = applied - {worst}


class _Likelihoods:
    """CTC log-likelihood of cell texts on the cell's joined frames, computed in batches, kept; with
    ``letters`` (a second reader's bare-letter frames of the same lines), the sum of both readers'
    log-likelihoods, the second one of the text without diacritics."""

    def __init__(self, lines: list[LineLogProbs], letters: list[LineLogProbs] | None = None) -> None:
        self.joined = join_lines(lines)
        self.letters = join_lines(letters) if letters else None
        self.known: dict[str, float] = {}

    def __call__(self, texts: Sequence[str]) -> list[float]:
        plain = [text.replace(LINE_BREAK, " ") for text in texts]
        missing = list(dict.fromkeys(t for t in plain if t not in self.known))
        if missing:
            scores = (batch_text_log_likelihood(self.joined, missing) if self.letters is None
                      else joint_text_log_likelihood(self.joined, self.letters, missing))
            self.known.update(zip(missing, scores, strict=True))
        return [self.known[t] for t in plain]


def _keep_likeliest(cell: CellText, likelihoods: _Likelihoods) -> Callable[[list[NameOption]], list[NameOption]]:
    """``best_per_level`` ranking crowded names by what the frames say of each (one batched pass)."""

    def keep(options: list[NameOption]) -> list[NameOption]:
        if not crowded(options):
            return best_per_level(options)
        edits = {o: o.edit(cell) for o in options}
        base, *lls = likelihoods([render(cell, ()), *(render(cell, [e] if e else []) for e in edits.values())])
        return best_per_level([replace(o, loss=base - ll) for o, ll in zip(edits, lls, strict=True)])

    return keep


def decode_place_cell(
    lines: list[LineLogProbs], decoded: list[DecodedLine], home: HomeArea | None = None,
    letters: list[LineLogProbs] | None = None,
) -> list[DecodedLine]:
    """The lines of a place cell after gazetteer rescoring (same length as ``decoded``);
    ``home``: the book's home area (see ``ocr.places.index.PlaceIndex.home_area``); ``letters``: a
    second reader's bare-letter frames of the same lines, whose evidence is then added to the
    frames' (ocr.places.place_check)."""
    if not lines or len(lines) != len(decoded) or (letters is not None and len(letters) != len(lines)):
        return decoded
    cell = CellText.of_lines([d.reading.text for d in decoded])
    if not cell.words:
        return decoded
    index = place_index()
    home = home or None
    settled = [i for i in interpretations(cell, index, exactly_written, home) if is_settled(cell, i)]
    if settled and (home is None or not all(strays_from_home(cell, i, index, home) for i in settled)):
        return decoded  # an existing path, written out in full: nothing to rescore, no CTC pass
    likelihoods = _Likelihoods(lines, letters)
    if letters is not None and likelihoods([render(cell, ())])[0] <= NEG_INF:
        return decoded  # the reading cannot be spelt on one of the readers' frames: nothing to weigh
    found = interpretations(cell, index, _keep_likeliest(cell, likelihoods), home)
    edits = sorted({e for interpretation in found for e in interpretation.edits})
    if not edits:
        return decoded
    pairs = _touching(edits)
    base_ll, *lls = likelihoods([render(cell, ()), *(render(cell, (e,)) for e in edits),
                                 *(render(cell, pair) for pair in pairs)])
    single = {e: ll - base_ll for e, ll in zip(edits, lls[: len(edits)], strict=True)}
    interaction: dict[Edit, dict[Edit, float]] = {}
    for (a, b), ll in zip(pairs, lls[len(edits) :], strict=True):
        value = ll - base_ll - single[a] - single[b]
        interaction.setdefault(a, {})[b] = value
        interaction.setdefault(b, {})[a] = value
    gains = _Gains(single, interaction)
    base_score = base_ll + max(i.bonus(frozenset()) for i in found)
    ruled, free = [], []
    for interpretation in found:
        proxy, applied = _select(cell, interpretation, gains, rule=True, home=home)
        free_proxy, free_applied = _select(cell, interpretation, gains, rule=False, home=home)
        if applied:
            ruled.append((proxy, _Scored(applied, interpretation)))
        if free_applied:
            free.append((free_proxy, _Scored(free_applied, interpretation)))
    # Only candidates whose rough score beats the reading as it is are worth a whole-text pass.
    shortlist = _distinct([s for p, s in sorted(ruled, key=lambda ps: -ps[0]) if p > base_score])
    preferred = [s for p, s in sorted(free, key=lambda ps: -ps[0]) if p > base_score][:1]
    if not shortlist and not preferred:
        return decoded
    chosen, evaluated = _choose(cell, likelihoods, shortlist[:EXACT_CANDIDATES], preferred, base_score, home)
    best_seen = max(evaluated, key=lambda s: s.score, default=None)
    if best_seen is not None and best_seen.score <= (chosen.score if chosen is not None else base_score):
        best_seen = None
    return _decoded_lines(lines, decoded, cell, chosen, best_seen)


def _distinct(candidates: list[_Scored]) -> list[_Scored]:
    seen: set[frozenset[Edit]] = set()
    out = []
    for candidate in candidates:
        if candidate.applied not in seen:
            seen.add(candidate.applied)
            out.append(candidate)
    return out


def _choose(
    cell: CellText,
    likelihoods: _Likelihoods,
    shortlist: list[_Scored],
    preferred: list[_Scored],
    base_score: float,
    home: HomeArea | None,
) -> tuple[_Scored | None, list[_Scored]]:
    """The best shortlisted edit set whose every edit passes the evidence rule on the whole text
    (leave that edit out: the text must not become much likelier, and the score must drop), if
    it beats the reading as it is; and every candidate scored on the way."""
    evaluated: list[_Scored] = []
    for _round in range(2):
        texts = [render(cell, c.applied) for c in [*shortlist, *preferred]]
        for candidate in shortlist:
            texts.extend(render(cell, candidate.applied - {e}) for e in sorted(candidate.applied))
        lls = iter(likelihoods(texts))
        scored = [_Scored(c.applied, c.interpretation, next(lls)) for c in [*shortlist, *preferred]]
        evaluated.extend(scored)
        valid, pruned = [], []
        for candidate in scored[: len(shortlist)]:
            failing = set()
            for edit in sorted(candidate.applied):
                without = candidate.applied - {edit}
                ll_without = next(lls)
                drop = ll_without - candidate.log_likelihood
                marginal = candidate.score - (ll_without + candidate.interpretation.bonus(without))
                if drop > _edit_limit(cell, edit, home) or marginal <= 0:
                    failing.add(edit)
            if not failing:
                valid.append(candidate)
            elif candidate.applied - failing:
                pruned.append(_Scored(candidate.applied - failing, candidate.interpretation))
        best = max(valid, key=lambda s: s.score, default=None)
        if best is not None and best.score > base_score:
            return best, evaluated
        shortlist, preferred = _distinct(pruned), []
        if not shortlist:
            break
    return None, evaluated


def _decoded_lines(
    lines: list[LineLogProbs],
    decoded: list[DecodedLine],
    cell: CellText,
    chosen: _Scored | None,
    preferred: _Scored | None,
) -> list[DecodedLine]:
    """Rewritten lines keep their previous reading as an alternative; a reading the gazetteer
    prefers but the evidence refused becomes an alternative and marks a disagreement."""
    new_texts = render(cell, chosen.applied).split(LINE_BREAK) if chosen else [d.reading.text for d in decoded]
    wanted_texts = render(cell, preferred.applied).split(LINE_BREAK) if preferred else new_texts
    if len(new_texts) != len(decoded) or len(wanted_texts) != len(decoded):
        return decoded
    out = []
    for llp, old, text, wanted in zip(lines, decoded, new_texts, wanted_texts, strict=True):
        line = old
        if text != old.reading.text:
            reading = reading_for_text(llp, text)
            if reading is None:
                return decoded
            previous = [old.reading.text, old.greedy.text, *old.alternatives]
            # The gazetteer's choice never makes the line look more agreed upon than before (it
            # may bring back the greedy text the word lexicon had changed).
            constrained = old.constrained_text if not old.agreement else text
            alternatives = [a for a in dict.fromkeys(previous) if a != text]
            line = DecodedLine(reading, old.greedy, constrained, alternatives, used_lexicon=True)
        if wanted != line.reading.text:
            alternatives = [a for a in dict.fromkeys([wanted, *line.alternatives]) if a != line.reading.text]
            constrained = wanted if wanted != line.greedy.text else line.constrained_text
            line = DecodedLine(line.reading, line.greedy, constrained, alternatives, line.used_lexicon)
        out.append(line)
    return out
