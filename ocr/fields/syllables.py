"""Every orthographically valid Vietnamese syllable, generated from the spelling rules.

A syllable is onset + (medial) + nucleus + coda + tone. The generator applies the rules of
Vietnamese orthography:

* /k/ is written ``k`` before i, y, e, ê, iê, ``q`` with the medial (``qu``), ``c`` elsewhere;
  /ɣ/ and /ŋ/ are written ``gh``/``ngh`` before i, e, ê, iê and ``g``/``ng`` elsewhere;
  ``gi`` absorbs a following i (``gì``, ``gìn``, ``giêng``).
* The medial /w/ is written ``o`` before a, ă, e and ``u`` elsewhere (always ``u`` after q);
  it never follows b, m, p, ph, v, gi.
* iê is written ``yê`` after the medial or with no onset (``uyên``, ``yên``); i is ``y`` after the
  medial; open i is also written ``y`` after h, k, l, m, n, s, t, th, v and alone (``lý``/``lí``).
* Stop-final rhymes (-p, -t, -c, -ch) take only the sắc and nặng tones.
* Tone marks go on the main vowel (ê of iê, ô of uô, ơ of ươ); for the open rhymes oa, oe, uy
  both the "new" placement (``hoà``, ``khoẻ``, ``thuỷ``) and the traditional one (``hòa``,
  ``khỏe``, ``thủy``) are generated, since books and keyboards use both.

Consequence: unaccented spellings are valid only if they are real toneless syllables ("nguyen" is
not: its rhyme needs ê), so ASCII-fied names are flagged by the name validator.
"""

from __future__ import annotations

import unicodedata
from functools import cache

# Nucleus -> codas it combines with (no medial). "a" after i/u/ư is the off-glide of ia/ua/ưa.
_PLAIN_RHYMES: dict[str, tuple[str, ...]] = {
    "a": ("", "i", "o", "u", "y", "m", "n", "ng", "nh", "c", "ch", "p", "t"),
    "ă": ("m", "n", "ng", "c", "p", "t"),
    "â": ("u", "y", "m", "n", "ng", "c", "p", "t"),
    "e": ("", "o", "m", "n", "ng", "c", "p", "t"),
    "ê": ("", "u", "m", "n", "nh", "ch", "p", "t"),
    "i": ("", "a", "u", "m", "n", "nh", "ch", "p", "t"),
    "iê": ("u", "m", "n", "ng", "c", "p", "t"),
    "o": ("", "i", "m", "n", "ng", "c", "p", "t"),
    "oo": ("ng", "c"),
    "ô": ("", "i", "m", "n", "ng", "c", "p", "t"),
    "ơ": ("", "i", "m", "n", "p", "t"),
    "u": ("", "a", "i", "m", "n", "ng", "c", "p", "t"),
    "uô": ("i", "m", "n", "ng", "c", "t"),
    "ư": ("", "a", "i", "u", "m", "n", "ng", "c", "t"),
    "ươ": ("i", "u", "m", "n", "ng", "c", "p", "t"),
}
# Nucleus -> codas it combines with after the medial /w/ (oa, oă, uâ, oe, uê, uy, uyê, uơ, quô).
_MEDIAL_RHYMES: dict[str, tuple[str, ...]] = {
    "a": ("", "i", "y", "o", "m", "n", "ng", "nh", "c", "ch", "t"),  # ... quào, ngoạm
    "ă": ("m", "n", "ng", "c", "p", "t"),
    "â": ("n", "ng", "t", "y"),
    "e": ("", "o", "n", "t"),
    "ê": ("", "n", "nh", "ch", "t"),
    "i": ("", "a", "u", "n", "nh", "ch", "t"),
    "iê": ("n", "t"),
    "ơ": ("", "i"),  # thuở, quới
}
_QU_ONLY_MEDIAL_RHYMES: dict[str, tuple[str, ...]] = {"ô": ("c",)}  # quốc

# Phonological onsets; "k", "G", "N" stand for /k/, /ɣ/, /ŋ/ whose spelling depends on the vowel.
_ONSETS = ("", "b", "k", "ch", "d", "đ", "G", "gi", "h", "kh", "l", "m", "n", "N", "nh", "p", "ph",
           "r", "s", "t", "th", "tr", "v", "x")
_NO_MEDIAL = {"b", "m", "p", "ph", "v", "gi"}
_FRONT_NUCLEI = {"i", "e", "ê", "iê"}
_Y_FOR_OPEN_I = {"", "h", "k", "l", "m", "n", "s", "t", "th", "v"}
_STOP_CODAS = {"c", "ch", "p", "t"}
_GI_I_CODAS = {"", "n"}  # gì, gìn

_GRAVE, _ACUTE, _HOOK, _TILDE, _DOT = "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"
_ALL_TONES = ("", _GRAVE, _ACUTE, _HOOK, _TILDE, _DOT)
_STOP_TONES = (_ACUTE, _DOT)
# Tone marks plus the vowel-quality marks; used to recognise "Vietnamese-looking" letters.
TONE_MARKS = (_GRAVE, _ACUTE, _HOOK, _TILDE, _DOT)


def _onset_spelling(onset: str, nucleus: str, medial: bool) -> str:
    front = nucleus in _FRONT_NUCLEI and not medial
    if onset == "k":
        return "q" if medial else ("k" if front else "c")
    if onset == "G":
        return "gh" if front else "g"
    if onset == "N":
        return "ngh" if front else "ng"
    return onset


def _spellings(onset: str, medial: bool, nucleus: str, coda: str) -> list[tuple[str, list[int]]]:
    """Written forms of one syllable (toneless) with the index(es) where the tone mark may go."""
    head = _onset_spelling(onset, nucleus, medial)
    medial_letter = "" if not medial else ("o" if nucleus in {"a", "ă", "e"} and head != "q" else "u")
    if medial or (onset == "" and nucleus == "iê"):
        core = {"i": "y", "iê": "yê"}.get(nucleus, nucleus)
    else:
        core = nucleus
    if onset == "gi" and core.startswith("i"):
        core = core[1:]  # gi + i -> gi, gi + iê -> giê
    rhyme = medial_letter + core + coda
    word = head + rhyme
    if core:
        main = len(head) + len(medial_letter) + len(core) - 1
        if len(core) == 2 and core != "oo" and nucleus not in {"iê", "uô", "ươ"}:
            main = len(head) + len(medial_letter)
    else:  # "gi" swallowed the nucleus: the tone goes on its i
        main = len(head) - 1
    marks = [main]
    if medial and coda == "" and nucleus in {"a", "e", "i"} and head != "q":
        marks.append(len(head))  # traditional placement: hòa, khỏe, thủy
    forms = [(word, marks)]
    if not medial and nucleus == "i" and coda == "" and onset in _Y_FOR_OPEN_I:
        forms.append((head + "y", [len(head)]))
    if head == "q" and nucleus == "i":
        forms.append(("qui" + word[3:], [2]))  # older spelling: qui, quít
    return forms


def _with_tone(word: str, index: int, tone: str) -> str:
    return unicodedata.normalize("NFC", word[: index + 1] + tone + word[index + 1 :])


def _rhymes() -> list[tuple[bool, str, str]]:
    plain = [(False, n, c) for n, codas in _PLAIN_RHYMES.items() for c in codas]
    medial = [(True, n, c) for n, codas in _MEDIAL_RHYMES.items() for c in codas]
    return plain + medial


@cache
def vietnamese_syllables(cased: bool = False) -> frozenset[str]:
    """All valid syllables in lowercase (and, with ``cased``, also Capitalised), NFC."""
    found: set[str] = set()
    combos = [(o, *r) for o in _ONSETS for r in _rhymes()]
    combos += [("k", True, n, c) for n, codas in _QU_ONLY_MEDIAL_RHYMES.items() for c in codas]
    for onset, medial, nucleus, coda in combos:
        if medial and onset in _NO_MEDIAL:
            continue
        if onset == "gi" and nucleus == "i" and coda not in _GI_I_CODAS:
            continue  # "gia", "giu" are gi + a / gi + u; the tone never sits on gi's i there
        tones = _STOP_TONES if coda in _STOP_CODAS else _ALL_TONES
        for word, marks in _spellings(onset, medial, nucleus, coda):
            for tone in tones:
                found.update(_with_tone(word, i, tone) for i in marks)
    if cased:
        found |= {w[0].upper() + w[1:] for w in found}
    return frozenset(found)


def has_word_casing(word: str) -> bool:
    """lowercase, Capitalised or UPPERCASE (the casings a ledger uses); not "nGuyễn"."""
    return word == word.lower() or word == word.upper() or (word[:1].isupper() and word[1:] == word[1:].lower())


def is_vietnamese_syllable(word: str) -> bool:
    """True for one valid syllable in lowercase, Capitalised or UPPERCASE (NFD input accepted)."""
    word = unicodedata.normalize("NFC", word.strip())
    return bool(word) and has_word_casing(word) and word.lower() in vietnamese_syllables()
