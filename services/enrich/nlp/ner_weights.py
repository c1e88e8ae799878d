"""The fine-tuned NER weights shipped with Newswire (cheap to import: no spaCy).

``data/ner_conll.bin.gz`` holds the NER pipe of en_core_web_sm fine-tuned on the CoNLL-2003 training split
with the original model's other OntoNotes labels kept (``scripts/train_ner.py``).  The enricher loads the
packaged pipeline and replaces its ``ner`` weights with these; they apply to ``en_core_web_sm`` only (another
``NEWSWIRE_SPACY_MODEL`` runs as packaged).

``data/ner_<lang>.bin.gz`` (es, nl, de) are the small NER pipelines trained here for other languages
(``scripts/train_ner_multilingual.py``, loaded by :mod:`.trained_pipelines`).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

NER_WEIGHTS_PATH = Path(__file__).with_name("data") / "ner_conll.bin.gz"
#: The pipeline whose ``ner`` pipe the weights were trained from (same labels and architecture).
BASE_MODEL = "en_core_web_sm"


def fine_tuned_applies(model: str) -> bool:
    """Whether the shipped weights replace the NER pipe of ``model``."""
    return model == BASE_MODEL and NER_WEIGHTS_PATH.is_file()


@cache
def _digest(path: Path) -> str:
    """The first 8 hex digits of the file's SHA-256, read once per process (the shipped files are 6-7 MB and
    every ``current_versions`` call names them)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:8]


def ner_weights_suffix(model: str) -> str:
    """``+conll-<digest>`` when the fine-tuned weights apply to ``model``, else ``""`` (part of the NER
    model's version, so that retrained weights make stored enrichments stale)."""
    if not fine_tuned_applies(model):
        return ""
    return "+conll-" + _digest(NER_WEIGHTS_PATH)


#: Languages with a NER pipeline trained here and shipped in ``data/``.
TRAINED_LANGUAGES = ("es", "nl", "de")


def trained_pipeline_path(lang: str) -> Path:
    """Where the shipped NER pipeline of ``lang`` lives (may not exist)."""
    return NER_WEIGHTS_PATH.with_name(f"ner_{lang}.bin.gz")


def trained_pipeline_version(lang: str) -> str | None:
    """``newswire_ner_<lang>-<digest of the file>``, or ``None`` when the file is missing."""
    path = trained_pipeline_path(lang)
    if not path.is_file():
        return None
    return f"newswire_ner_{lang}-" + _digest(path)
