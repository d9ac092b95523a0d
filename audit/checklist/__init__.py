"""Checklist files: parse YAML with line numbers, validate, normalise, write back, hash.

The public names live in `audit.checklist.format`; they are repeated here so callers can write
`from audit.checklist import load_checklist_file`.
"""

from .format import (
    EMPTY_SECTION,
    ITEM_TYPES,
    LANGUAGES,
    MISSING_TRANSLATION,
    NO_SECTIONS,
    SCORING_TYPES,
    ChecklistError,
    Problem,
    content_hash,
    dump_checklist_yaml,
    load_checklist_bytes,
    load_checklist_data,
    load_checklist_file,
    load_checklist_text,
    normalise_checklist,
    validate_checklist,
)

__all__ = [
    "EMPTY_SECTION",
    "ITEM_TYPES",
    "LANGUAGES",
    "MISSING_TRANSLATION",
    "NO_SECTIONS",
    "SCORING_TYPES",
    "ChecklistError",
    "Problem",
    "content_hash",
    "dump_checklist_yaml",
    "load_checklist_bytes",
    "load_checklist_data",
    "load_checklist_file",
    "load_checklist_text",
    "normalise_checklist",
    "validate_checklist",
]
