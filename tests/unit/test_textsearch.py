"""The language -> text-search configuration table and the split of a search's exclusions (issue 18)."""

from __future__ import annotations

from services.api.articles.repository import split_negations
from shared.textsearch import language_code, search_config, search_configs


def test_language_tags_map_to_their_configuration_and_the_rest_to_simple() -> None:
    assert [language_code(v) for v in ("de-AT", "PT_br", " en ", "", None)] == ["de", "pt", "en", None, None]
    assert search_config("de") == "german"
    assert search_config("nb") == search_config("no") == "norwegian"
    assert search_config("und", "fr-CA") == "french"  # undetected: the feed's hint
    assert search_config(None, "nl") == "dutch"
    assert search_config("xx", "de") == "simple"  # a detected language wins over the hint
    assert search_config("ja") == search_config(None) == "simple"


def test_a_search_is_parsed_with_its_languages_configurations_or_every_one() -> None:
    assert search_configs(["de", "pl"]) == ["german", "simple"]
    assert search_configs(["de", "de-AT"]) == ["german"]
    every = search_configs()
    assert {"english", "german", "french", "spanish", "dutch", "simple"} <= set(every)
    assert every == sorted(set(every))


def test_exclusions_are_split_from_the_search_outside_quotes() -> None:
    assert split_negations('bank -"central bank" -crypto "a -b"') == (
        'bank "a -b"',
        ['"central bank"', "crypto"],
    )
    assert split_negations("well-known -x") == ("well-known", ["x"])
    assert split_negations("-only") == ("", ["only"])
