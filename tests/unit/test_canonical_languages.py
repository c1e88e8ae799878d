"""Canonicalisation per language and the multilingual alias table (pure functions, no model).

The NER spans are given by hand, with the English-style labels the per-language pipelines map theirs to
(PERSON, ORG, GPE, LOC ...), so each rule is tested on its own."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from services.enrich.entities import ExtractedEntity, RawSpan, canonicalise
from services.enrich.entities.aliases import alias_of, compact, fold, is_alias_acronym, multilingual_rows
from services.enrich.entities.canonical import strip_honorific
from services.enrich.entities.overrides import Override, OverrideSet, apply_overrides

ROOT = Path(__file__).resolve().parents[2]


def spans(text: str, *labelled: tuple[str, str], field: str = "text") -> list[RawSpan]:
    """Every whole-word occurrence of each (surface, label), as a model would tag it: the longer surface
    wins where two overlap ("Rutte" inside "Mark Rutte" is not a span of its own)."""
    found = [
        (m.start(), m.end(), label)
        for surface, label in labelled
        for m in re.finditer(rf"(?<!\w){re.escape(surface)}(?!\w)", text)
    ]
    kept: list[tuple[int, int, str]] = []
    for start, end, label in sorted(found, key=lambda f: f[0] - f[1]):
        if all(end <= s or start >= e for s, e, _ in kept):
            kept.append((start, end, label))
    return [RawSpan(field, s, e, label) for s, e, label in sorted(kept)]  # type: ignore[arg-type]


def entities(text: str, *labelled: tuple[str, str], language: str) -> dict[str, tuple[str, list[str]]]:
    found = canonicalise(title=None, text=text, spans=spans(text, *labelled), language=language)
    _offsets_ok(found, text)
    return {e.name: (e.type, [m.surface for m in e.mentions]) for e in found}


def _offsets_ok(found: tuple[ExtractedEntity, ...], text: str) -> None:
    for e in found:
        for m in e.mentions:
            assert text[m.start : m.end] == m.surface


# --- titles -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("language", "name", "expected"),
    [
        ("fr", "M. Macron", "Macron"),
        ("fr", "Mme Lagarde", "Lagarde"),
        ("fr", "Mlle Dupont", "Dupont"),
        ("fr", "Me Dupond-Moretti", "Dupond-Moretti"),
        ("fr", "le pape François", "François"),
        ("fr", "Premier ministre Michel Barnier", "Michel Barnier"),
        ("de", "Frau Merkel", "Merkel"),
        ("de", "Herr Dr. Scholz", "Scholz"),
        ("de", "Prof. Dr. Christian Drosten", "Christian Drosten"),
        ("de", "Bundeskanzler Friedrich Merz", "Friedrich Merz"),
        ("de", "US-Präsident Trump", "Trump"),
        ("es", "Sr. Sánchez", "Sánchez"),
        ("es", "Sra. Díaz", "Díaz"),
        ("es", "doña Letizia", "Letizia"),
        ("es", "D. Felipe González", "Felipe González"),
        ("nl", "dhr. Wilders", "Wilders"),
        ("nl", "mevr. Ollongren", "Ollongren"),
        ("nl", "de heer Rutte", "Rutte"),
        ("nl", "mevrouw Kaag", "Kaag"),
        ("nl", "premier Mark Rutte", "Mark Rutte"),
        ("de", "Frau", "Frau"),  # the last word always stays
    ],
)
def test_titles_per_language(language: str, name: str, expected: str) -> None:
    assert strip_honorific(name, language=language) == expected


def test_titles_of_other_languages_stay_in_english() -> None:
    assert strip_honorific("Herr Schmidt") == "Herr Schmidt"
    assert strip_honorific("Frau Holle", language="en") == "Frau Holle"
    assert strip_honorific("Don Lemon") == "Don Lemon"  # a first name in English, a title in Spanish
    assert strip_honorific("Don Lemon", language="es") == "Lemon"
    # offices only strip from a person: the Bundespräsident's office is no person
    assert strip_honorific("Präsident Steinmeier", person=False, language="de") == "Präsident Steinmeier"


# --- surnames with particles ----------------------------------------------------------------------------
def test_particles_do_not_break_short_forms() -> None:
    text = (
        "Ursula von der Leyen traf in Brüssel Mark Rutte. Frau von der Leyen sagte, Rutte habe recht. "
        "Von der Leyen reist morgen nach Den Haag."
    )
    found = entities(
        text,
        ("Ursula von der Leyen", "PERSON"),
        ("Frau von der Leyen", "PERSON"),
        ("Von der Leyen", "PERSON"),
        ("Mark Rutte", "PERSON"),
        ("Rutte", "PERSON"),
        ("Brüssel", "LOC"),
        ("Den Haag", "LOC"),
        language="de",
    )
    assert found["Ursula von der Leyen"] == (
        "PERSON",
        ["Ursula von der Leyen", "Frau von der Leyen", "Von der Leyen"],
    )
    assert found["Mark Rutte"] == ("PERSON", ["Mark Rutte", "Rutte"])
    assert found["Brussels"] == ("GPE", ["Brüssel"])
    assert found["The Hague"] == ("GPE", ["Den Haag"])  # "Den" is part of this name, not a determiner
    assert len(found) == 4


def test_a_person_keeps_a_particle_that_looks_like_a_determiner() -> None:
    text = "Frenkie de Jong scoorde. Volgens de Jong was het verdiend."
    found = entities(text, ("Frenkie de Jong", "PERSON"), ("de Jong", "PERSON"), language="nl")
    assert found == {"Frenkie de Jong": ("PERSON", ["Frenkie de Jong", "de Jong"])}


def test_a_shared_surname_with_particle_stays_on_its_own() -> None:
    text = "Ursula von der Leyen und Heiko von der Leyen kamen. Von der Leyen sprach zuerst."
    found = entities(
        text,
        ("Ursula von der Leyen", "PERSON"),
        ("Heiko von der Leyen", "PERSON"),
        ("Von der Leyen", "PERSON"),
        language="de",
    )
    assert set(found) == {"Ursula von der Leyen", "Heiko von der Leyen", "Von der Leyen"}


# --- determiners ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("language", "text", "surface", "label", "name", "kept"),
    [
        ("fr", "Il a parlé de la France hier.", "la France", "LOC", "France", "France"),
        ("fr", "Il veut quitter l'Allemagne demain.", "l'Allemagne", "LOC", "Germany", "Allemagne"),
        ("de", "Gestern hat die Bundesregierung beschlossen.", "die Bundesregierung", "ORG",
         "Bundesregierung", "Bundesregierung"),
        ("es", "Ayer el Gobierno aprobó la ley.", "el Gobierno", "ORG", "Gobierno", "Gobierno"),
        ("nl", "Hij reisde naar de Verenigde Staten.", "de Verenigde Staten", "LOC", "United States",
         "Verenigde Staten"),
        ("it", "Il governo ha scritto all'Onu e alla Nato.", "Nato", "ORG", "NATO", "Nato"),
        ("de", "Er las es in der Zeitung Die Zeit gestern.", "Die Zeit", "ORG", "Die Zeit", "Die Zeit"),
        ("es", "Llegó a La Paz el lunes.", "La Paz", "LOC", "La Paz", "La Paz"),
    ],
)  # fmt: skip
def test_leading_determiners_are_not_part_of_the_name(
    language: str, text: str, surface: str, label: str, name: str, kept: str
) -> None:
    assert entities(text, (surface, label), language=language)[name][1] == [kept]


def test_a_capitalised_determiner_goes_only_when_the_article_shows_the_bare_name() -> None:
    text = "Die Bundesregierung hat entschieden. Später erklärte die Bundesregierung ihre Gründe."
    found = entities(text, ("Die Bundesregierung", "ORG"), ("die Bundesregierung", "ORG"), language="de")
    assert found == {"Bundesregierung": ("ORG", ["Bundesregierung", "Bundesregierung"])}
    hague = "La Haye a répondu. Le tribunal de La Haye siège."
    assert entities(hague, ("La Haye", "LOC"), language="fr") == {
        "The Hague": ("GPE", ["La Haye", "La Haye"])
    }
    alone = "Die Linke hat entschieden."
    assert set(entities(alone, ("Die Linke", "ORG"), language="de")) == {"Die Linke"}
    # a capitalised determiner before a table name goes: "Les États-Unis" opening a sentence
    text = "Les États-Unis ont répondu."
    assert entities(text, ("Les États-Unis", "LOC"), language="fr") == {
        "United States": ("GPE", ["États-Unis"])
    }


# --- German genitive ------------------------------------------------------------------------------------
def test_german_genitive_reads_as_its_base_form_only_with_evidence() -> None:
    text = "Deutschlands Wirtschaft wächst. Merkels Nachfolger Merz lobte Merkel. Reuters berichtete."
    found = entities(
        text,
        ("Deutschlands", "LOC"),
        ("Merkels", "ORG"),
        ("Merkel", "PERSON"),
        ("Merz", "PERSON"),
        ("Reuters", "ORG"),
        language="de",
    )
    assert found["Germany"] == ("GPE", ["Deutschlands"])  # the alias table knows "Deutschland"
    assert found["Merkel"][1] == ["Merkels", "Merkel"]  # the article writes "Merkel"
    assert "Reuters" in found  # no "Reuter" anywhere: kept as written
    # not in German
    assert "Germany" not in entities("Deutschlands team.", ("Deutschlands", "LOC"), language="nl")


# --- the alias table --------------------------------------------------------------------------------------
US_NAMES = {
    "en": "United States",
    "fr": "États-Unis",
    "es": "Estados Unidos",
    "nl": "Verenigde Staten",
    "de": "Vereinigte Staaten",
    "it": "Stati Uniti",
    "pt": "Estados Unidos",
}


@pytest.mark.parametrize(("language", "surface"), sorted(US_NAMES.items()))
def test_one_canonical_entity_across_languages(language: str, surface: str) -> None:
    text = f"Ein Satz über {surface} und Moskau."
    found = canonicalise(title=None, text=text, spans=spans(text, (surface, "GPE")), language=language)
    assert [(e.name, e.type) for e in found] == [("United States", "GPE")]


@pytest.mark.parametrize(
    ("language", "surface", "label", "expected"),
    [
        ("de", "Vereinigten Staaten", "LOC", ("United States", "GPE")),  # dative plural
        ("de", "USA", "LOC", ("United States", "GPE")),
        ("es", "EE.UU.", "LOC", ("United States", "GPE")),
        ("fr", "Etats-Unis", "LOC", ("United States", "GPE")),  # capital without its accent
        ("de", "Europäischen Union", "ORG", ("European Union", "ORG")),
        ("de", "Internationalen Währungsfonds", "ORG", ("International Monetary Fund", "ORG")),
        ("de", "Roten Kreuz", "ORG", ("Red Cross", "ORG")),
        ("fr", "Nations unies", "ORG", ("United Nations", "ORG")),
        ("fr", "Nations Unies", "ORG", ("United Nations", "ORG")),
        ("es", "Naciones Unidas", "ORG", ("United Nations", "ORG")),
        ("de", "Vereinte Nationen", "ORG", ("United Nations", "ORG")),
        ("de", "UNO", "ORG", ("United Nations", "ORG")),
        ("fr", "OTAN", "ORG", ("NATO", "ORG")),
        ("nl", "NAVO", "ORG", ("NATO", "ORG")),
        ("de", "EZB", "ORG", ("European Central Bank", "ORG")),
        ("fr", "BCE", "ORG", ("European Central Bank", "ORG")),
        ("de", "IWF", "ORG", ("International Monetary Fund", "ORG")),
        ("es", "OMS", "ORG", ("World Health Organization", "ORG")),
        ("de", "Weltgesundheitsorganisation", "ORG", ("World Health Organization", "ORG")),
        ("es", "Pekín", "GPE", ("Beijing", "GPE")),
        ("de", "Peking", "LOC", ("Beijing", "GPE")),
        ("nl", "Wenen", "LOC", ("Vienna", "GPE")),
        ("es", "La Haya", "LOC", ("The Hague", "GPE")),
        ("fr", "Genève", "LOC", ("Geneva", "GPE")),
        ("fr", "Geneve", "LOC", ("Geneva", "GPE")),
        ("de", "Genf", "LOC", ("Geneva", "GPE")),
        ("pt", "Lisboa", "LOC", ("Lisbon", "GPE")),
        ("de", "Köln", "LOC", ("Cologne", "GPE")),
        ("de", "Papst Franziskus", "PERSON", ("Pope Francis", "PERSON")),
        ("es", "el papa Francisco", "PERSON", ("Pope Francis", "PERSON")),
        # another language's name in the article's language, when it names one thing only
        ("de", "Estados Unidos", "LOC", ("United States", "GPE")),
        ("de", "Germany", "LOC", ("Germany", "GPE")),
        # labels: a country is never a person, a city never a person
        ("de", "Jordan", "PERSON", None),
        ("fr", "Florence", "PERSON", None),
        ("de", "Francisco", "PERSON", None),  # a first name alone is nobody in particular
        # names of one other language only are not looked up elsewhere; capitals under four letters neither
        ("de", "Island", "LOC", ("Iceland", "GPE")),  # German for Iceland
        ("fr", "Island", "LOC", None),
        ("de", "Moskau", "LOC", ("Moscow", "GPE")),
        ("fr", "Moskau", "LOC", None),
        ("de", "IRA", "ORG", None),  # not the Portuguese "Irã"
        ("de", "IRAN", "LOC", ("Iran", "GPE")),
        ("es", "Granada", "LOC", None),  # the Spanish city, though CLDR's Spanish name of Grenada
        ("it", "Keeling", "LOC", None),  # "Isole Cocos (Keeling)": the bracket is no name of its own
        ("es", "China", "LOC", ("China", "GPE")),  # not "RAE de Hong Kong (China)"
    ],
)
def test_alias_table_per_language(
    language: str, surface: str, label: str, expected: tuple[str, str] | None
) -> None:
    assert alias_of(surface, label, language) == expected


@pytest.mark.parametrize(
    ("surface", "meaning"),
    [
        # "VN" is the United Nations in Dutch, Vietnam's code elsewhere: decided by the article's language
        ("VN", {"nl": ("United Nations", "ORG"), "de": None, "en": None, "fr": None}),
        # "EU" is the United States in Mexican Spanish: not the European Union there
        ("EU", {"en": ("European Union", "ORG"), "de": ("European Union", "ORG"), "es": None}),
        ("UE", {"fr": ("European Union", "ORG"), "es": ("European Union", "ORG"), "en": None, "de": None}),
        ("ONU", {"fr": ("United Nations", "ORG"), "es": ("United Nations", "ORG"), "en": None}),
        ("UN", {"en": ("United Nations", "ORG"), "de": ("United Nations", "ORG"), "fr": None}),
        ("VS", {"nl": ("United States", "GPE"), "en": None, "de": None}),
        ("AU", {"de": ("African Union", "ORG"), "fr": None, "en": None}),
        ("US", {"en": ("United States", "GPE"), "de": ("United States", "GPE"), "fr": None}),
    ],
)
def test_acronyms_match_only_in_their_languages(
    surface: str, meaning: dict[str, tuple[str, str] | None]
) -> None:
    for language, expected in meaning.items():
        assert alias_of(surface, "ORG", language) == expected, language


def test_acronyms_match_in_capitals_only_in_every_language() -> None:
    assert alias_of("Onu", "ORG", "fr") is None
    assert alias_of("Vn", "ORG", "nl") is None
    assert alias_of("ue", "ORG", "es") is None


def test_english_names_are_unchanged_by_the_multilingual_tables() -> None:
    # names that are other languages' variants are not English aliases
    assert alias_of("Moskau", "GPE") is None
    assert alias_of("Deutschland", "GPE") is None
    assert alias_of("ONU", "ORG") is None
    assert alias_of("Germany", "GPE") is None  # already its own canonical name: no table, no type forced
    assert alias_of("Türkiye", "GPE") == ("Turkey", "GPE")  # an English variant that renames
    assert alias_of("Kiev", "GPE") == ("Kyiv", "GPE")
    assert alias_of("BRITAIN", "GPE") == ("United Kingdom", "GPE")  # a headline in capitals, as before
    assert alias_of("DEUTSCHLAND", "LOC", "de") == ("Germany", "GPE")
    text = "The Kremlin said Moscow and Washington would talk. Herr Schmidt in Moskau disagreed."
    labelled = [("Kremlin", "ORG"), ("Moscow", "GPE"), ("Washington", "GPE"), ("Herr Schmidt", "PERSON"),
                ("Moskau", "GPE")]  # fmt: skip
    assert canonicalise(title=None, text=text, spans=spans(text, *labelled)) == canonicalise(
        title=None, text=text, spans=spans(text, *labelled), language="en"
    )
    assert set(entities(text, *labelled, language="en")) == {
        "Kremlin",
        "Moscow",
        "Washington",
        "Herr Schmidt",
        "Moskau",
    }


def test_alias_merges_within_one_article() -> None:
    text = (
        "Die USA und die Vereinigten Staaten sind dasselbe. Die UNO, die Vereinten Nationen, tagt in Genf. "
        "Der IWF und der Internationale Währungsfonds warnen."
    )
    found = entities(
        text,
        ("USA", "LOC"),
        ("Vereinigten Staaten", "LOC"),
        ("UNO", "ORG"),
        ("Vereinten Nationen", "ORG"),
        ("Genf", "LOC"),
        ("IWF", "ORG"),
        ("Internationale Währungsfonds", "ORG"),
        language="de",
    )
    assert found == {
        "United States": ("GPE", ["USA", "Vereinigten Staaten"]),
        "United Nations": ("ORG", ["UNO", "Vereinten Nationen"]),
        "Geneva": ("GPE", ["Genf"]),
        "International Monetary Fund": ("ORG", ["IWF", "Internationale Währungsfonds"]),
    }


def test_a_person_of_the_table_takes_the_bare_name_in_every_language() -> None:
    german = "Papst Franziskus kam nach Rom. Franziskus sprach über Wladimir Putin. Putin schwieg."
    found = entities(
        german,
        ("Papst Franziskus", "PERSON"),
        ("Franziskus", "PERSON"),
        ("Wladimir Putin", "PERSON"),
        ("Putin", "PERSON"),
        ("Rom", "LOC"),
        language="de",
    )
    assert found["Pope Francis"] == ("PERSON", ["Papst Franziskus", "Franziskus"])
    assert found["Vladimir Putin"] == ("PERSON", ["Wladimir Putin", "Putin"])
    assert found["Rome"] == ("GPE", ["Rom"])
    english = "Pope Francis came to Rome. Francis spoke."
    found = entities(english, ("Pope Francis", "PERSON"), ("Francis", "PERSON"), language="en")
    assert found["Pope Francis"] == ("PERSON", ["Pope Francis", "Francis"])
    french = "Le pape François a rencontré Vladimir Poutine. Poutine a souri."
    people = [("pape François", "PERSON"), ("Vladimir Poutine", "PERSON"), ("Poutine", "PERSON")]
    found = entities(french, *people, language="fr")
    assert found == {
        "Pope Francis": ("PERSON", ["pape François"]),
        "Vladimir Putin": ("PERSON", ["Vladimir Poutine", "Poutine"]),
    }


def test_across_articles_the_same_canonical_key() -> None:
    """The entity table's key is (type, name): an English, a German, a French and a Dutch article about
    one entity give the same one."""
    articles = [
        ("en", "Talks in Moscow with the United Nations and the United States.",
         [("Moscow", "GPE"), ("United Nations", "ORG"), ("United States", "GPE")]),
        ("de", "Gespräche in Moskau mit den Vereinten Nationen und den Vereinigten Staaten.",
         [("Moskau", "LOC"), ("Vereinten Nationen", "ORG"), ("Vereinigten Staaten", "LOC")]),
        ("fr", "Des pourparlers à Moscou avec l'ONU et les États-Unis.",
         [("Moscou", "LOC"), ("ONU", "ORG"), ("États-Unis", "LOC")]),
        ("nl", "Gesprekken in Moskou met de VN en de VS.",
         [("Moskou", "LOC"), ("VN", "ORG"), ("VS", "LOC")]),
        ("es", "Conversaciones en Moscú con la ONU y EE.UU.",
         [("Moscú", "LOC"), ("ONU", "ORG"), ("EE.UU.", "LOC")]),
    ]  # fmt: skip
    keys = []
    for language, text, labelled in articles:
        found = canonicalise(title=None, text=text, spans=spans(text, *labelled), language=language)
        keys.append({(e.type, e.name) for e in found})
    assert all(k == {("GPE", "Moscow"), ("ORG", "United Nations"), ("GPE", "United States")} for k in keys), (
        keys
    )


# --- operator overrides on non-English surfaces -------------------------------------------------------------
def test_operator_overrides_apply_to_non_english_surfaces() -> None:
    text = "Die Bundesrepublik und Deutschland sind eins. Die BRD ist gemeint."
    found = canonicalise(
        title=None,
        text=text,
        spans=spans(text, ("Bundesrepublik", "LOC"), ("Deutschland", "LOC"), ("BRD", "ORG")),
        language="de",
    )
    assert {e.name for e in found} == {"Bundesrepublik", "Germany", "BRD"}
    overrides = OverrideSet(
        (
            Override("alias", "Bundesrepublik", target_name="Germany", target_type="GPE"),
            Override("merge", "brd", target_name="Germany", target_type="GPE"),
        )
    )
    applied = apply_overrides(entities=found, overrides=overrides, text=text)
    assert [(e.name, e.type, [m.surface for m in e.mentions]) for e in applied] == [
        ("Germany", "GPE", ["Bundesrepublik", "Deutschland", "BRD"])
    ]


# --- the data -------------------------------------------------------------------------------------------
def test_no_name_names_two_entities_in_one_language() -> None:
    """Within one language, no variant (acronym, or name after folding accents, case and German endings)
    of the curated table and the country names belongs to two canonical names."""
    owners: dict[tuple[str, str], set[str]] = {}
    for language, variant, canonical, _, _ in multilingual_rows():
        key = compact(variant) if is_alias_acronym(variant) else fold(variant, language)
        owners.setdefault((language, key), set()).add(canonical)
    assert {k: v for k, v in owners.items() if len(v) > 1} == {}
    assert len(owners) > 1500  # the country names are in


def test_country_names_file_is_what_the_generator_writes() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_aliases.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
