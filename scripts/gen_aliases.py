"""Write ``services/enrich/entities/country_names.py``: every country's name in each supported language.

    python scripts/gen_aliases.py [--check]

The names come from the Unicode CLDR through Babel (``babel.Locale(lang).territories``; CLDR data is under
the Unicode licence, Babel under BSD-3-Clause).  Each country gets one English canonical name: CLDR's
English name, except where CLDR's form is not the one news text uses (``CANONICAL`` below: "Congo -
Kinshasa", "Myanmar (Burma)", "Türkiye" ...); the CLDR English name is then an English variant.  A name that
names two countries in one language is dropped from that language.  Regions ("world", "Europe"), the
pseudo-locales and the non-country codes (EU, UN, EZ, QO, ZZ ...) are left out.

Generated once and shipped (a reviewed, deterministic data file; importing it costs nothing, while loading
seven Babel locales at import took 60 ms).  ``--check`` exits 1 when the shipped file is out of date.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from babel import Locale

LANGUAGES: tuple[str, ...] = ("en", "fr", "es", "nl", "de", "it", "pt")
OUT = Path(__file__).resolve().parents[1] / "services" / "enrich" / "entities" / "country_names.py"

#: Codes of CLDR territories that are not countries (or are served by the curated table: EU, UN).
SKIPPED = frozenset({"AC", "CP", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"})
#: English canonical names where CLDR's English name is not the one English news uses.
CANONICAL: dict[str, str] = {
    "AG": "Antigua and Barbuda",
    "BA": "Bosnia and Herzegovina",
    "CD": "Democratic Republic of the Congo",
    "CG": "Republic of the Congo",
    "CI": "Ivory Coast",
    "HK": "Hong Kong",
    "KN": "Saint Kitts and Nevis",
    "LC": "Saint Lucia",
    "MM": "Myanmar",
    "MO": "Macau",
    "PS": "Palestine",
    "ST": "São Tomé and Príncipe",
    "TR": "Turkey",
    "TT": "Trinidad and Tobago",
    "VC": "Saint Vincent and the Grenadines",
}
#: Other English names in common use (each names only its country).
ENGLISH_EXTRA: dict[str, tuple[str, ...]] = {
    "CI": ("Côte d'Ivoire",),
    "CV": ("Cabo Verde",),
    "CZ": ("Czech Republic",),
    "MM": ("Burma",),
    "SZ": ("Swaziland",),
    "TR": ("Türkiye",),
}


#: Codes whose "X (Y)" names give two names of the country ("Myanmar (Burma)"); elsewhere the bracket
#: is a qualifier ("RAE de Hong Kong (China)", "Isole Cocos (Keeling)") and only X is kept.
BRACKETED_ALTERNATIVES = frozenset({"MM"})
#: Names left out: (code, language) -> name, with the reason.
EXCLUDED: dict[tuple[str, str], str] = {
    ("GD", "es"): "Granada",  # Grenada in Spanish, but far more often the Spanish city
}


def _forms(name: str, code: str) -> list[str]:
    """Usable forms of a CLDR name: "X (Y)" gives X (and Y for ``BRACKETED_ALTERNATIVES``); "Kongo -
    Kinshasa" style names are kept whole (harmless: no text writes them); "’" also as "'"."""
    forms = [name]
    if name.endswith(")") and " (" in name:
        head, tail = name[:-1].split(" (", 1)
        forms = [head, tail] if code in BRACKETED_ALTERNATIVES else [head]
    out: list[str] = []
    for form in forms:
        out.append(form)
        if "’" in form:
            out.append(form.replace("’", "'"))
        if " & " in form:
            out.append(form.replace(" & ", " and "))
    return list(dict.fromkeys(out))


def build() -> dict[str, tuple[str, dict[str, tuple[str, ...]]]]:
    """``{code: (English canonical, {language: names})}``."""
    english: dict[str, str] = {str(k): str(v) for k, v in Locale("en").territories.items()}
    codes = sorted(c for c in english if len(c) == 2 and c.isalpha() and c not in SKIPPED)
    table: dict[str, tuple[str, dict[str, tuple[str, ...]]]] = {}
    for code in codes:
        canonical = CANONICAL.get(code, english[code])
        per_language: dict[str, tuple[str, ...]] = {}
        for language in LANGUAGES:
            names = _forms(str(Locale(language).territories[code]), code)
            if language == "en":
                names = [*names, *ENGLISH_EXTRA.get(code, ())]
            names = [n for n in names if n != EXCLUDED.get((code, language))]
            per_language[language] = tuple(dict.fromkeys(n for n in names if n))
        table[code] = (canonical, per_language)
    # a name naming two countries in one language is dropped from that language
    for language in LANGUAGES:
        owners: dict[str, set[str]] = {}
        for code, (_, per_language) in table.items():
            for name in per_language[language]:
                owners.setdefault(name.casefold(), set()).add(code)
        for _, per_language in table.values():
            per_language[language] = tuple(
                n for n in per_language[language] if len(owners[n.casefold()]) == 1
            )
    return table


def render(table: dict[str, tuple[str, dict[str, tuple[str, ...]]]]) -> str:
    import babel

    lines = [
        '"""Country names per language -> English canonical name (GENERATED by scripts/gen_aliases.py;',
        f"do not edit).  Source: Unicode CLDR via Babel {babel.__version__} (Unicode licence).",
        "",
        "``COUNTRY_NAMES[code] = (English canonical name, {language: names})``.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        f"LANGUAGES: tuple[str, ...] = {LANGUAGES!r}",
        "",
        "COUNTRY_NAMES: dict[str, tuple[str, dict[str, tuple[str, ...]]]] = {",
    ]
    for code, (canonical, per_language) in table.items():
        lines.append(f"    {code!r}: (")
        lines.append(f"        {canonical!r},")
        lines.append("        {")
        for language, names in per_language.items():
            lines.append(f"            {language!r}: {names!r},")
        lines.append("        },")
        lines.append("    ),")
    lines.append("}")
    source = "\n".join(lines) + "\n"
    ruff = Path(sys.executable).with_name("ruff")  # the formatter the project lints with
    done = subprocess.run(
        [str(ruff), "format", "--stdin-filename", str(OUT), "-"],
        input=source,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the shipped file is out of date")
    args = parser.parse_args()
    text = render(build())
    if args.check:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(f"{OUT} is out of date: run scripts/gen_aliases.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({len(text)} characters)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
