"""Field types of the registry books: normalizers, validators, catalogs and lexicons (pure text).

Public API (import from ``ocr.fields``):
normalize, canonical_value, validate, validate_record, ValidationContext, FieldIssue,
check_registration_sequence, SequenceIssue, parse_date, ParsedDate, canonical_ethnicity,
canonical_nationality, canonical_sex, ethnicities, is_vietnamese_syllable, vietnamese_syllables,
lexicon_for, Lexicon, Gazetteer, CurrentUnit, get_gazetteer.
"""

from ocr.fields.catalogs import (
    SEX_VALUES,
    CatalogMatch,
    Ethnicity,
    canonical_ethnicity,
    canonical_nationality,
    canonical_sex,
    country_catalog,
    ethnicities,
    ethnicity_catalog,
)
from ocr.fields.dates import ParsedDate, normalize_date, parse_date
from ocr.fields.gazetteer import CurrentUnit, Gazetteer, LegacyUnit, get_gazetteer
from ocr.fields.issues import FieldIssue, SequenceIssue
from ocr.fields.lexicon import Lexicon, lexicon_for, split_words
from ocr.fields.names import given_names, middle_names, surnames
from ocr.fields.normalize import canonical_value, normalize
from ocr.fields.sequence import check_registration_sequence
from ocr.fields.syllables import is_vietnamese_syllable, vietnamese_syllables
from ocr.fields.text import clean_text
from ocr.fields.validate import ValidationContext, cross_field_issues, validate, validate_record

__all__ = [
    "SEX_VALUES",
    "CatalogMatch",
    "CurrentUnit",
    "Ethnicity",
    "FieldIssue",
    "Gazetteer",
    "LegacyUnit",
    "Lexicon",
    "ParsedDate",
    "SequenceIssue",
    "ValidationContext",
    "canonical_ethnicity",
    "canonical_nationality",
    "canonical_sex",
    "canonical_value",
    "check_registration_sequence",
    "clean_text",
    "country_catalog",
    "ethnicities",
    "ethnicity_catalog",
    "get_gazetteer",
    "given_names",
    "is_vietnamese_syllable",
    "lexicon_for",
    "middle_names",
    "normalize",
    "normalize_date",
    "parse_date",
    "split_words",
    "surnames",
    "validate",
    "validate_record",
    "cross_field_issues",
    "vietnamese_syllables",
]
