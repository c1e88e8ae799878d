"""Which PostgreSQL text-search configuration indexes an article, and which ones a search is parsed with.

An article's ``search_vector`` is built with its own language's configuration (migration 0024: the SQL
function ``article_search_config(language, language_hint)`` holds the same table as ``CONFIGS``, limited
to the configurations the server has): the detected language, else the feed's hint, by its ISO 639-1 code;
``simple`` (no stemming, no stop words) for any other language and for an unknown one.  A search without a
language filter is parsed with every configuration (``search_configs()``) and matches an article if it
matches in any of them, so each article is found by the words of its own language.
"""

from __future__ import annotations

from collections.abc import Iterable

FALLBACK = "simple"

#: ISO 639-1 code -> PostgreSQL's built-in configuration (``SELECT cfgname FROM pg_ts_config``, PG 15+)
CONFIGS: dict[str, str] = {
    "ar": "arabic",
    "ca": "catalan",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "eu": "basque",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hi": "hindi",
    "hu": "hungarian",
    "hy": "armenian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nb": "norwegian",
    "ne": "nepali",
    "nl": "dutch",
    "nn": "norwegian",
    "no": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}


def language_code(value: str | None) -> str | None:
    """The primary subtag of a language tag, lower case: ``"de-AT"`` / ``"pt_BR"`` -> ``"de"`` / ``"pt"``."""
    if value is None:
        return None
    code = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return code or None


def search_config(language: str | None, hint: str | None = None) -> str:
    """The configuration an article is indexed with: its detected language (``und``: none), else the
    hint; ``simple`` when neither has one (the Python twin of ``article_search_config``)."""
    code = language_code(language)
    if code is None or code == "und":
        code = language_code(hint)
    return CONFIGS.get(code or "", FALLBACK)


def search_configs(languages: Iterable[str] = ()) -> list[str]:
    """The configurations a search is parsed with: those of ``languages`` (a ``language=`` filter), or
    every one (and ``simple``) when there is none; sorted, each once."""
    wanted = list(languages)
    if wanted:
        return sorted({search_config(code) for code in wanted})
    return sorted({*CONFIGS.values(), FALLBACK})
