"""Per-language words of canonicalisation (data only): courtesy titles, offices and ranks, determiners.

Used by :mod:`.canonical` when an article's language is known.  English keeps its own lists in
:mod:`.canonical` (``COURTESY_TITLES``, ``RANKS``); every other language adds its own to them, so an English
"Dr." or "President" in a German article is still stripped.  Words are lower case without their final dot
(matching strips it: "Mme." and "Mme" are one title).  Multi-word titles ("de heer", "le pape",
"Premier ministre") are handled word by word: a determiner directly before a title goes with it.
"""

from __future__ import annotations

#: Courtesy titles: stripped from the front of any name.
COURTESY: dict[str, frozenset[str]] = {
    "fr": frozenset({"m", "mm", "mme", "mmes", "mlle", "mlles", "me", "dr", "pr", "monsieur", "madame",
                     "mademoiselle", "maître"}),
    "de": frozenset({"herr", "herrn", "frau", "fräulein", "dr", "prof"}),
    "es": frozenset({"sr", "sra", "srta", "d", "dña", "don", "doña", "señor", "señora", "señorita", "dr",
                     "dra"}),
    "nl": frozenset({"dhr", "mevr", "heer", "mevrouw", "meneer", "mw", "dr", "drs", "ir", "prof", "mr"}),
    "it": frozenset({"sig", "sigg", "signor", "signore", "signora", "dott", "dottor", "dottore",
                     "dottoressa", "prof", "avv", "on"}),
    "pt": frozenset({"sr", "sra", "srta", "senhor", "senhora", "dr", "dra", "dom", "dona"}),
}  # fmt: skip

#: Offices and ranks: stripped from the front of a PERSON name only.
RANKS: dict[str, frozenset[str]] = {
    "fr": frozenset({"président", "présidente", "premier", "première", "ministre", "général", "pape", "roi",
                     "reine", "prince", "princesse", "maire", "sénateur", "sénatrice", "député", "députée",
                     "chancelier", "chancelière", "juge", "ambassadeur", "ambassadrice", "commissaire",
                     "secrétaire", "gouverneur", "cardinal", "cheikh", "émir"}),
    "de": frozenset({"präsident", "präsidentin", "bundespräsident", "bundespräsidentin", "kanzler",
                     "kanzlerin", "bundeskanzler", "bundeskanzlerin", "minister", "ministerin",
                     "ministerpräsident", "ministerpräsidentin", "premierminister", "premierministerin",
                     "außenminister", "außenministerin", "regierungschef", "regierungschefin", "staatschef",
                     "papst", "könig", "königin", "prinz", "prinzessin", "bürgermeister", "bürgermeisterin",
                     "oberbürgermeister", "oberbürgermeisterin", "senator", "senatorin", "general",
                     "richter", "richterin", "botschafter", "botschafterin", "kardinal", "scheich",
                     "kommissar", "kommissarin", "kommissionspräsidentin", "kommissionspräsident"}),
    "es": frozenset({"presidente", "presidenta", "primer", "primera", "ministro", "ministra", "papa", "rey",
                     "reina", "príncipe", "princesa", "alcalde", "alcaldesa", "general", "canciller",
                     "senador", "senadora", "juez", "jueza", "embajador", "embajadora", "gobernador",
                     "gobernadora", "cardenal", "jeque"}),
    "nl": frozenset({"premier", "minister", "minister-president", "president", "presidente", "paus",
                     "koning", "koningin", "prins", "prinses", "burgemeester", "kanselier", "generaal",
                     "senator", "rechter", "ambassadeur", "kardinaal", "eurocommissaris", "commissaris"}),
    "it": frozenset({"presidente", "premier", "ministro", "ministra", "papa", "re", "regina", "principe",
                     "principessa", "sindaco", "cancelliere", "generale", "senatore", "senatrice",
                     "giudice", "ambasciatore", "cardinale"}),
    "pt": frozenset({"presidente", "primeiro-ministro", "primeira-ministra", "ministro", "ministra", "papa",
                     "rei", "rainha", "príncipe", "princesa", "prefeito", "prefeita", "governador",
                     "governadora", "chanceler", "general", "senador", "senadora", "juiz", "juíza",
                     "embaixador", "cardeal"}),
}  # fmt: skip

#: Determiners (definite articles and their contractions) that are not part of a name: "la France",
#: "die Bundesregierung", "el Gobierno", "de Verenigde Staten".
DETERMINERS: dict[str, frozenset[str]] = {
    "fr": frozenset({"le", "la", "les"}),
    "de": frozenset({"der", "die", "das", "den", "dem", "des"}),
    "es": frozenset({"el", "la", "los", "las"}),
    "nl": frozenset({"de", "het"}),
    "it": frozenset({"il", "lo", "la", "i", "gli", "le"}),
    "pt": frozenset({"o", "a", "os", "as"}),
}

#: Elided determiners written against the name ("l'Allemagne", "l'Onu", "l'Italia").
ELIDED: dict[str, tuple[str, ...]] = {"fr": ("l'", "l’"), "it": ("l'", "l’")}

SUPPORTED: frozenset[str] = frozenset({"en", *COURTESY})


def base_language(language: str | None) -> str:
    """``"de-AT"`` -> ``"de"``; an empty or unknown code stays as given (lower case)."""
    return (language or "").split("-")[0].split("_")[0].strip().lower()
