"""CTC decoding: greedy best path, CTC likelihood of a given text, prefix beam search.

All functions take a :class:`~ocr.read.engines.base.LineLogProbs` (``[T, C]`` log-softmax,
index 0 = blank) and are pure.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from ocr.read.engines.base import LineLogProbs
from ocr.types import CharConfidence, LineReading

BLANK = 0
NEG_INF = -1e30


def char_spans_to_confidences(
    llp: LineLogProbs, runs: list[tuple[int, int, int]]
) -> list[CharConfidence]:
    """(label, first_frame, last_frame) runs -> CharConfidence with x-span in input pixels.

    A character's confidence is the highest frame probability of its label in the run
    (the frame where the network is surest it sees that character).
    """
    out: list[CharConfidence] = []
    for label, t0, t1 in runs:
        prob = float(np.exp(llp.log_probs[t0 : t1 + 1, label].max()))
        x0 = int(np.floor(llp.frame_x[t0, 0]))
        x1 = int(np.ceil(llp.frame_x[t1, 1]))
        out.append(CharConfidence(llp.alphabet[label], round(prob, 4), x0, max(x1, x0 + 1)))
    return out


def line_score(chars: list[CharConfidence]) -> float:
    """Line score = geometric mean of the character probabilities (1.0 for an empty line)."""
    if not chars:
        return 1.0
    probs = np.clip([c.confidence for c in chars], 1e-6, 1.0)
    return float(np.exp(np.mean(np.log(probs))))


def greedy_runs(log_probs: np.ndarray) -> list[tuple[int, int, int]]:
    """Best-path runs: (label, first_frame, last_frame) for each emitted (non-blank) label."""
    best = log_probs.argmax(axis=1)
    runs: list[tuple[int, int, int]] = []
    prev = BLANK
    for t, label in enumerate(best.tolist()):
        if label != prev and label != BLANK:
            runs.append((label, t, t))
        elif label == prev and label != BLANK:
            lab, t0, _ = runs[-1]
            runs[-1] = (lab, t0, t)
        prev = label
    return runs


def join_lines(lines: list[LineLogProbs]) -> LineLogProbs:
    """Frames of several lines as one sequence, with a sure space between lines.

    Lets a closed value list ("Việt" / "Nam" written on two lines) be matched as one value.
    x-spans of later lines stay in their own line's coordinates.
    """
    if len(lines) == 1:
        return lines[0]
    alphabet = lines[0].alphabet
    space = np.full((1, len(alphabet)), -30.0, dtype=lines[0].log_probs.dtype)
    space[0, alphabet.index(" ")] = 0.0
    parts, spans = [], []
    for i, line in enumerate(lines):
        if i:
            parts.append(space)
            spans.append(np.zeros((1, 2)))
        parts.append(line.log_probs)
        spans.append(line.frame_x)
    return LineLogProbs(np.concatenate(parts), np.concatenate(spans), alphabet)


def frame_rival(log_probs: np.ndarray) -> float:
    """The highest probability of a non-blank label that is not its frame's best label."""
    if log_probs.size == 0:
        return 0.0
    probs = np.exp(log_probs)
    rival = probs.copy()
    rival[np.arange(probs.shape[0]), probs.argmax(axis=1)] = 0.0
    rival[:, BLANK] = 0.0
    return float(rival.max(initial=0.0))


def line_reading(chars: list[CharConfidence], rival: float = 0.0) -> LineReading:
    """The reading these characters spell, scored by them (``rival``: see LineReading)."""
    return LineReading(text="".join(c.char for c in chars), chars=chars, score=line_score(chars), rival=rival)


def greedy_decode(llp: LineLogProbs) -> LineReading:
    """Best-path CTC decoding with per-character confidence and x-span."""
    return line_reading(char_spans_to_confidences(llp, greedy_runs(llp.log_probs)), frame_rival(llp.log_probs))


def encode(text: str, alphabet: tuple[str, ...]) -> list[int] | None:
    """Text -> label indices, or None when a character is outside the alphabet."""
    index = {ch: i for i, ch in enumerate(alphabet) if i != BLANK}
    labels = [index.get(ch) for ch in text]
    if any(lab is None for lab in labels):
        return None
    return [int(lab) for lab in labels if lab is not None]


def ctc_log_likelihood(log_probs: np.ndarray, labels: list[int]) -> float:
    """log P(labels | frames) summed over all CTC alignments (forward algorithm)."""
    T = log_probs.shape[0]
    if not labels:
        return float(log_probs[:, BLANK].sum())
    ext = np.full(2 * len(labels) + 1, BLANK, dtype=np.int64)
    ext[1::2] = labels
    S = ext.size
    if T < len(labels):
        return NEG_INF
    # Transition s-2 -> s allowed when ext[s] is a label different from ext[s-2].
    skip = np.zeros(S, dtype=bool)
    skip[2:] = (ext[2:] != BLANK) & (ext[2:] != ext[:-2])
    alpha = np.full(S, NEG_INF)
    alpha[0] = log_probs[0, ext[0]]
    alpha[1] = log_probs[0, ext[1]]
    for t in range(1, T):
        prev1 = np.concatenate(([NEG_INF], alpha[:-1]))
        prev2 = np.where(skip, np.concatenate(([NEG_INF, NEG_INF], alpha[:-2])), NEG_INF)
        alpha = np.logaddexp(np.logaddexp(alpha, prev1), prev2) + log_probs[t, ext]
    return float(np.logaddexp(alpha[-1], alpha[-2]))


def text_log_likelihood(llp: LineLogProbs, text: str) -> float:
    labels = encode(text, llp.alphabet)
    return NEG_INF if labels is None else ctc_log_likelihood(llp.log_probs, labels)


@dataclass(frozen=True)
class BeamHypothesis:
    text: str
    log_prob: float  # CTC log-likelihood part (sum over alignments of this prefix)
    bonus: float  # accumulated lexicon/character-class log-bonus

    @property
    def total(self) -> float:
        return self.log_prob + self.bonus


def forced_alignment(log_probs: np.ndarray, labels: list[int]) -> list[tuple[int, int, int]] | None:
    """Viterbi alignment of ``labels`` to frames -> (label, first_frame, last_frame) runs.

    Used to give characters of a lexicon-chosen reading their own confidence and x-span.
    """
    T = log_probs.shape[0]
    if not labels:
        return []
    if T < len(labels):
        return None
    ext = np.full(2 * len(labels) + 1, BLANK, dtype=np.int64)
    ext[1::2] = labels
    S = ext.size
    skip = np.zeros(S, dtype=bool)
    skip[2:] = (ext[2:] != BLANK) & (ext[2:] != ext[:-2])
    delta = np.full(S, NEG_INF)
    delta[0], delta[1] = log_probs[0, ext[0]], log_probs[0, ext[1]]
    back = np.zeros((T, S), dtype=np.int8)  # 0 = stay, 1 = from s-1, 2 = from s-2
    for t in range(1, T):
        stay = delta
        step1 = np.concatenate(([NEG_INF], delta[:-1]))
        step2 = np.where(skip, np.concatenate(([NEG_INF, NEG_INF], delta[:-2])), NEG_INF)
        stacked = np.stack([stay, step1, step2])
        back[t] = stacked.argmax(axis=0)
        delta = stacked.max(axis=0) + log_probs[t, ext]
    s = S - 1 if delta[S - 1] >= delta[S - 2] else S - 2
    states = np.empty(T, dtype=np.int64)
    for t in range(T - 1, -1, -1):
        states[t] = s
        s -= int(back[t, s])
    runs: list[tuple[int, int, int]] = []
    for t, state in enumerate(states.tolist()):
        if state % 2 == 1:
            k = state // 2
            if runs and runs[-1][0] == k:
                runs[-1] = (k, runs[-1][1], t)
            else:
                runs.append((k, t, t))
    return [(labels[k], t0, t1) for k, t0, t1 in runs]


def reading_for_text(llp: LineLogProbs, text: str) -> LineReading | None:
    """A LineReading of ``text`` with per-character evidence from a forced alignment."""
    labels = encode(text, llp.alphabet)
    if labels is None:
        return None
    runs = forced_alignment(llp.log_probs, labels)
    if runs is None:
        return None
    chars = char_spans_to_confidences(llp, runs)
    return LineReading(text=text, chars=chars, score=line_score(chars))


WordScore = Callable[[str], float]


class Grammar(Protocol):
    """The shapes a value may take (see ocr.fields.grammars): a hard constraint of the beam."""

    def prefix_ok(self, text: str) -> bool: ...
    def complete_ok(self, text: str) -> bool: ...
    def applies_to(self, greedy_text: str) -> bool: ...


@dataclass(frozen=True)
class DecodingConstraints:
    """Knowledge about what a field may contain.

    ``char_log_prior`` ([C], <= 0) is added each time a character is emitted: character-class
    constraints are soft so that a clearly written unexpected character still wins.
    ``start_log_prior`` is added instead for the first character of the line and
    ``word_start_log_prior`` for the first character of every word (capital letters expected).
    ``word_score`` scores each completed word (a maximal run of letters) in log space: a bonus
    for lexicon words, a penalty for impossible ones; ``impossible_word`` tells the words that
    cannot be written at all (not a Vietnamese syllable), which a lexicon reading may replace on
    weaker evidence (NON_WORD_MAX_OVERRIDE). ``grammar`` (dates, registration numbers) is hard:
    the beam only keeps prefixes that can still become a valid value.
    """

    char_log_prior: np.ndarray | None = None
    word_score: WordScore | None = None
    start_log_prior: np.ndarray | None = None
    word_start_log_prior: np.ndarray | None = None
    impossible_word: Callable[[str], bool] | None = None
    grammar: Grammar | None = None

    @property
    def is_empty(self) -> bool:
        return all(v is None for v in (self.char_log_prior, self.word_score, self.start_log_prior,
                                       self.word_start_log_prior, self.grammar))


# Added to a final beam hypothesis that is not a complete value of the grammar.
INCOMPLETE_PENALTY = -30.0


def _char_prior(constraints: DecodingConstraints, prefix: str, label: int) -> float:
    """Log-prior of emitting ``label`` after ``prefix`` (line start, word start, elsewhere)."""
    prior = 0.0 if constraints.char_log_prior is None else float(constraints.char_log_prior[label])
    if not prefix and constraints.start_log_prior is not None:
        return prior + float(constraints.start_log_prior[label])
    if constraints.word_start_log_prior is not None and (not prefix or prefix[-1] == " "):
        return prior + float(constraints.word_start_log_prior[label])
    return prior


def constraint_score(text: str, constraints: DecodingConstraints, alphabet: tuple[str, ...]) -> float:
    """The bonus the beam search gives ``text`` as a whole (same rules, applied at once)."""
    score = 0.0
    labels = encode(text, alphabet) or []
    score += sum(_char_prior(constraints, text[:i], lab) for i, lab in enumerate(labels))
    if constraints.word_score is not None:
        score += sum(constraints.word_score(w) for w in _letter_words(text))
    if constraints.grammar is not None and not constraints.grammar.complete_ok(text):
        score += INCOMPLETE_PENALTY
    return score


def _letter_words(text: str) -> list[str]:
    words, current = [], ""
    for ch in text:
        if ch.isalpha():
            current += ch
        elif current:
            words.append(current)
            current = ""
    return [*words, current] if current else words


def _logaddexp(a: float, b: float) -> float:
    """log(e^a + e^b) on Python floats (numpy scalars cost ~10x more in the beam's inner loop)."""
    if a < b:
        a, b = b, a
    if b <= NEG_INF:
        return a
    return a + math.log1p(math.exp(b - a))


def _completed_word(prefix: str) -> str:
    """Trailing run of letters of ``prefix`` (the word a separator would now complete)."""
    end = len(prefix)
    start = end
    while start > 0 and prefix[start - 1].isalpha():
        start -= 1
    return prefix[start:end]


def prefix_beam_search(
    llp: LineLogProbs,
    constraints: DecodingConstraints,
    beam_width: int = 16,
    prune_log_prob: float = -7.0,
) -> list[BeamHypothesis]:
    """CTC prefix beam search with lexicon scoring at word boundaries.

    Returns hypotheses best first; ``log_prob`` is the CTC prefix probability (sum over
    alignments kept in the beam) and ``bonus`` the constraint score.
    """
    alphabet = llp.alphabet
    word_score = constraints.word_score
    prefix_ok = constraints.grammar.prefix_ok if constraints.grammar is not None else None
    # prefix -> [log p(ending in blank), log p(ending in non-blank)], plus a bonus per prefix
    beams: dict[str, list[float]] = {"": [0.0, NEG_INF]}
    bonus: dict[str, float] = {"": 0.0}

    def add(store: dict[str, list[float]], key: str, slot: int, value: float) -> None:
        entry = store.get(key)
        if entry is None:
            store[key] = [value, NEG_INF] if slot == 0 else [NEG_INF, value]
        else:
            entry[slot] = _logaddexp(entry[slot], value)

    for frame_array in llp.log_probs:
        candidates = [int(c) for c in np.nonzero(frame_array > prune_log_prob)[0] if c != BLANK]
        top = int(frame_array.argmax())
        if top != BLANK and top not in candidates:
            candidates.append(top)
        blank = float(frame_array[BLANK])
        if not candidates:  # a sure blank: every prefix just ends in blank, ranks unchanged
            beams = {prefix: [_logaddexp(p_b, p_nb) + blank, NEG_INF] for prefix, (p_b, p_nb) in beams.items()}
            continue
        frame = {c: float(frame_array[c]) for c in candidates}
        nxt: dict[str, list[float]] = {}
        for prefix, (p_b, p_nb) in beams.items():
            total = _logaddexp(p_b, p_nb)
            add(nxt, prefix, 0, total + blank)
            last = prefix[-1] if prefix else None
            for c, lp in frame.items():
                ch = alphabet[c]
                new = prefix + ch
                if prefix_ok is not None and new not in bonus and not prefix_ok(new):
                    continue
                if ch == last:
                    add(nxt, prefix, 1, p_nb + lp)  # repeat collapses
                    add(nxt, new, 1, p_b + lp)  # blank separated: a new char
                else:
                    add(nxt, new, 1, total + lp)
                if new not in bonus:
                    extra = _char_prior(constraints, prefix, c)
                    if word_score is not None and not ch.isalpha():
                        word = _completed_word(prefix)
                        extra += word_score(word) if word else 0.0
                    bonus[new] = bonus[prefix] + extra
        ranked = sorted(nxt.items(), key=lambda kv: _logaddexp(*kv[1]) + bonus[kv[0]], reverse=True)
        beams = dict(ranked[:beam_width])

    hypotheses = []
    for prefix, (p_b, p_nb) in beams.items():
        final = bonus[prefix]
        word = _completed_word(prefix)
        if word_score is not None and word:
            final += word_score(word)
        if constraints.grammar is not None and not constraints.grammar.complete_ok(prefix):
            final += INCOMPLETE_PENALTY
        hypotheses.append(BeamHypothesis(prefix, _logaddexp(p_b, p_nb), final))
    return sorted(hypotheses, key=lambda h: h.total, reverse=True)


@dataclass
class DecodedLine:
    """Greedy and constrained readings of one line and which one was chosen."""

    reading: LineReading  # the chosen reading
    greedy: LineReading
    constrained_text: str  # best constrained (beam) reading; == greedy text when they agree
    alternatives: list[str] = field(default_factory=list)
    used_lexicon: bool = False  # the chosen text differs from greedy because of the lexicon
    # How many nats likelier the frames found the greedy text than the chosen one (0: not
    # replaced, or replaced by a likelier text): a list entry or grammar repair picked far from
    # the reading is a guess, and the confidence must show it.
    repair_nats: float = 0.0

    @property
    def agreement(self) -> bool:
        return self.constrained_text == self.greedy.text


# How much more likely (natural log) the greedy reading may be than the lexicon reading and
# still be replaced: ~e^2.3 = 10x. Beyond that the writing is legible as it is ("exactly as
# written": a lexicon fixes misreads, it does not rewrite unusual spellings).
MAX_OVERRIDE_LOG_RATIO = 2.3


# Frames where some non-blank label other than the best path's has at least this probability make
# a line "uncertain"; a line without such frames and whose words all pass the constraints is
# not beam-searched (the beam cannot change it beyond MAX_OVERRIDE_LOG_RATIO) -- a 5-10x speedup.
SURE_FRAME_RIVAL = 0.02


# A greedy reading holding a word that cannot be written (not a syllable) is a misread unless the
# frames make it much likelier than any lexicon reading: e^6 ~ 400x instead of MAX_OVERRIDE_LOG_RATIO.
NON_WORD_MAX_OVERRIDE = 6.0


def _confidently_acceptable(llp: LineLogProbs, greedy: LineReading, constraints: DecodingConstraints) -> bool:
    if greedy.rival >= SURE_FRAME_RIVAL:
        return False
    if constraints.word_score is not None and any(constraints.word_score(w) < 0 for w in _letter_words(greedy.text)):
        return False
    if constraints.grammar is not None and not constraints.grammar.complete_ok(greedy.text):
        return False
    labels = encode(greedy.text, llp.alphabet) or []
    return all(_char_prior(constraints, greedy.text[:i], lab) == 0 for i, lab in enumerate(labels))


def _has_impossible_word(text: str, constraints: DecodingConstraints) -> bool:
    test = constraints.impossible_word
    return test is not None and any(test(w) for w in _letter_words(text))


def _override_limit(greedy: str, best: str, constraints: DecodingConstraints, max_override: float) -> float:
    """How many nats likelier the greedy text may be and still be replaced by ``best``."""
    grammar = constraints.grammar
    if grammar is not None and not grammar.complete_ok(greedy) and grammar.complete_ok(best):
        return math.inf  # "1//04/980" in a date column is not legible as written
    if _has_impossible_word(greedy, constraints) and not _has_impossible_word(best, constraints):
        return max(max_override, NON_WORD_MAX_OVERRIDE)
    if greedy.lower() == best.lower():  # capitals where the field expects them are not a respelling
        return max(max_override, NON_WORD_MAX_OVERRIDE)
    return max_override


def constrained_decode(
    llp: LineLogProbs,
    constraints: DecodingConstraints | None,
    beam_width: int = 16,
    max_override: float = MAX_OVERRIDE_LOG_RATIO,
) -> DecodedLine:
    """Greedy reading, constrained beam reading, and the choice between them on evidence."""
    greedy = greedy_decode(llp)
    if constraints is not None and constraints.grammar is not None and not constraints.grammar.applies_to(greedy.text):
        constraints = replace(constraints, grammar=None)
    if constraints is None or constraints.is_empty:
        return DecodedLine(greedy, greedy, greedy.text)
    if _confidently_acceptable(llp, greedy, constraints):
        return DecodedLine(greedy, greedy, greedy.text)
    hypotheses = prefix_beam_search(llp, constraints, beam_width)
    best = hypotheses[0].text if hypotheses else greedy.text
    if best == greedy.text:
        return DecodedLine(greedy, greedy, best)
    ll_greedy = text_log_likelihood(llp, greedy.text)
    ll_best = text_log_likelihood(llp, best)
    gain = (ll_best + constraint_score(best, constraints, llp.alphabet)) - (
        ll_greedy + constraint_score(greedy.text, constraints, llp.alphabet)
    )
    limit = _override_limit(greedy.text, best, constraints, max_override)
    override = gain > 0 and ll_greedy - ll_best <= limit and ll_best > NEG_INF / 2
    chosen = reading_for_text(llp, best) if override else None
    if chosen is None:
        return DecodedLine(greedy, greedy, best, alternatives=[best])
    return DecodedLine(chosen, greedy, best, alternatives=[greedy.text], used_lexicon=True,
                       repair_nats=max(0.0, ll_greedy - ll_best))


# Marks a registry value does not end with: a value ends with its last word. A mark the reader sees
# after it is most often the tail of the last stroke: "Suy tim." at 0.72 (seed 8181) and at 0.91
# (tuning seed 3131) on cells with no mark at all. Like a period between an address's units, it is
# no convention of the value, so it goes on the wider bound of a misread non-word; only a mark the
# frames are all but certain of (> 6 nats) stays.
TRAILING_MARKS = frozenset(".,:;")


def without_trailing_mark(llp: LineLogProbs, decoded: DecodedLine,
                          max_override: float = NON_WORD_MAX_OVERRIDE) -> DecodedLine:
    """``decoded`` without a punctuation mark after its last word, if the frames allow the text
    without it within ``max_override`` nats (then marked as a lexicon choice, the reading kept as
    an alternative); unchanged otherwise. A mark after a digit ("18.12.2007.") is left alone."""
    text = decoded.reading.text.rstrip()
    if len(text) < 2 or text[-1] not in TRAILING_MARKS or not text[-2].isalpha():
        return decoded
    bare = text[:-1]
    drop = text_log_likelihood(llp, text) - text_log_likelihood(llp, bare)
    reading = reading_for_text(llp, bare) if drop <= max_override else None
    if reading is None:
        return decoded
    alternatives = [a for a in dict.fromkeys([text, *decoded.alternatives]) if a != bare]
    return DecodedLine(reading, decoded.greedy, decoded.constrained_text, alternatives, used_lexicon=True,
                       repair_nats=decoded.repair_nats + max(0.0, drop))


def closed_set_decode(
    llp: LineLogProbs,
    candidates: tuple[str, ...],
    max_override: float = MAX_OVERRIDE_LOG_RATIO,
    shortlist: int = 12,
    always: tuple[str, ...] = (),
    preferred: frozenset[str] = frozenset(),
    preferred_bonus: float = 2.0,
) -> DecodedLine:
    """Choose among a closed list of values (sex, ethnicity, country) by CTC likelihood.

    The most likely candidate replaces the greedy reading only when the greedy text is not
    itself a candidate and is not much more likely than it (same rule as the beam).
    Only the ``shortlist`` spellings nearest the greedy text plus the ``always`` ones (the
    common values: a badly misread "Việt Nam" is far from it in edit distance) are scored;
    ``preferred`` spellings (the catalog's own) get ``preferred_bonus`` nats over variants, also
    when the greedy text is itself a listed variant.
    """
    greedy = greedy_decode(llp)
    # A listed variant ("HMông") is still weighed against the catalog's own spellings: the mark
    # it lacks ("H'Mông") is often too small for the greedy path but clear enough with the bonus.
    if not candidates or greedy.text in preferred or (greedy.text in candidates and not preferred):
        return DecodedLine(greedy, greedy, greedy.text)
    # The CTC forward pass is the costly part: score only the spellings nearest the greedy text.
    from ocr.read.ctc_batch import batch_text_log_likelihood  # imports this module: no top-level import

    nearest = process.extract(greedy.text, candidates, scorer=Levenshtein.distance, limit=shortlist)
    pool = list(dict.fromkeys([greedy.text, *always, *(c for c, _, _ in nearest)]))
    likelihoods = batch_text_log_likelihood(llp, pool)  # one forward pass for all spellings
    ll_greedy = likelihoods[0]
    scored = sorted(
        ((ll + (preferred_bonus if c in preferred else 0.0), c)
         for ll, c in zip(likelihoods, pool, strict=True) if c in candidates),
        reverse=True,
    )
    ll_best, best = scored[0] if scored else (NEG_INF, greedy.text)
    if ll_best <= NEG_INF / 2 or best == greedy.text:
        return DecodedLine(greedy, greedy, greedy.text)
    chosen = reading_for_text(llp, best) if ll_greedy - ll_best <= max_override else None
    if chosen is None:
        return DecodedLine(greedy, greedy, best, alternatives=[best])
    return DecodedLine(chosen, greedy, best, alternatives=[greedy.text], used_lexicon=True,
                       repair_nats=max(0.0, ll_greedy - ll_best))
