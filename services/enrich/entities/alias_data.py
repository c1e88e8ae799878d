"""The curated multilingual alias table (data only): names that differ by language and that CLDR does not
cover (CLDR names countries only: see :mod:`.country_names`).

Each row is ``(English canonical name, type, labels, {language: variants})``, hand-written from the
organisations' and cities' own names in each language; modest on purpose (frequent names only).  The
canonical name is the one the English pipeline already produces for English text, so an English and a
German article meet on one entity.  ``labels`` are the NER labels a mention must carry to match (a city
is never a PERSON; a person's name is only a PERSON).  Variants written in capitals (acronyms, dots
ignored) match only in capitals and only in their own language ("VN" is the United Nations in Dutch only;
"EU" is the European Union in English, German and Dutch but the United States in Mexican Spanish, so it is
not a Spanish variant).  Other variants match case-, accent- and hyphen-insensitively, in their language
and, when no other row claims the same name, in any language but English.
"""

from __future__ import annotations

_PLACE = ("GPE", "LOC", "FAC")
_ORG = ("ORG",)
_PERSON = ("PERSON",)

AliasRow = tuple[str, str, tuple[str, ...], dict[str, tuple[str, ...]]]

ORGANISATIONS: tuple[AliasRow, ...] = (
    ("United Nations", "ORG", _ORG + _PLACE, {
        "fr": ("ONU", "Nations unies", "Organisation des Nations unies"),
        "es": ("ONU", "Naciones Unidas", "Organización de las Naciones Unidas"),
        "nl": ("VN", "Verenigde Naties"),
        "de": ("UN", "UNO", "Vereinte Nationen"),
        "it": ("ONU", "Nazioni Unite", "Organizzazione delle Nazioni Unite"),
        "pt": ("ONU", "Nações Unidas", "Organização das Nações Unidas"),
    }),
    ("European Union", "ORG", _ORG + _PLACE, {
        "fr": ("UE", "Union européenne"),
        "es": ("UE", "Unión Europea"),
        "nl": ("EU", "Europese Unie"),
        "de": ("EU", "Europäische Union"),
        "it": ("UE", "Unione europea"),
        "pt": ("UE", "União Europeia"),
    }),
    ("NATO", "ORG", _ORG, {
        "fr": ("OTAN", "Otan", "Organisation du traité de l'Atlantique nord"),
        "es": ("OTAN", "Organización del Tratado del Atlántico Norte"),
        "nl": ("NAVO", "Navo", "NATO", "Noord-Atlantische Verdragsorganisatie"),
        "de": ("NATO", "Nato", "Nordatlantikpakt"),
        "it": ("NATO", "Nato", "Organizzazione del Trattato dell'Atlantico del Nord"),
        "pt": ("OTAN", "NATO", "Organização do Tratado do Atlântico Norte"),
    }),
    ("World Health Organization", "ORG", _ORG, {
        "en": ("World Health Organisation",),
        "fr": ("OMS", "Organisation mondiale de la santé"),
        "es": ("OMS", "Organización Mundial de la Salud"),
        "nl": ("WHO", "Wereldgezondheidsorganisatie"),
        "de": ("WHO", "Weltgesundheitsorganisation"),
        "it": ("OMS", "Organizzazione mondiale della sanità"),
        "pt": ("OMS", "Organização Mundial da Saúde"),
    }),
    ("International Monetary Fund", "ORG", _ORG, {
        "fr": ("FMI", "Fonds monétaire international"),
        "es": ("FMI", "Fondo Monetario Internacional"),
        "nl": ("IMF", "Internationaal Monetair Fonds"),
        "de": ("IWF", "Internationaler Währungsfonds"),
        "it": ("FMI", "Fondo monetario internazionale"),
        "pt": ("FMI", "Fundo Monetário Internacional"),
    }),
    ("European Central Bank", "ORG", _ORG, {
        "fr": ("BCE", "Banque centrale européenne"),
        "es": ("BCE", "Banco Central Europeo"),
        "nl": ("ECB", "Europese Centrale Bank"),
        "de": ("EZB", "Europäische Zentralbank"),
        "it": ("BCE", "Banca centrale europea"),
        "pt": ("BCE", "Banco Central Europeu"),
    }),
    ("World Bank", "ORG", _ORG, {
        "fr": ("Banque mondiale",),
        "es": ("Banco Mundial",),
        "nl": ("Wereldbank",),
        "de": ("Weltbank",),
        "it": ("Banca mondiale",),
        "pt": ("Banco Mundial",),
    }),
    ("World Trade Organization", "ORG", _ORG, {
        "en": ("World Trade Organisation",),
        "fr": ("OMC", "Organisation mondiale du commerce"),
        "es": ("OMC", "Organización Mundial del Comercio"),
        "nl": ("WTO", "Wereldhandelsorganisatie"),
        "de": ("WTO", "Welthandelsorganisation"),
        "it": ("OMC", "Organizzazione mondiale del commercio"),
        "pt": ("OMC", "Organização Mundial do Comércio"),
    }),
    ("European Commission", "ORG", _ORG, {
        "fr": ("Commission européenne",),
        "es": ("Comisión Europea",),
        "nl": ("Europese Commissie",),
        "de": ("Europäische Kommission", "EU-Kommission"),
        "it": ("Commissione europea",),
        "pt": ("Comissão Europeia",),
    }),
    ("European Parliament", "ORG", _ORG, {
        "fr": ("Parlement européen",),
        "es": ("Parlamento Europeo",),
        "nl": ("Europees Parlement",),
        "de": ("Europäisches Parlament", "EU-Parlament"),
        "it": ("Parlamento europeo",),
        "pt": ("Parlamento Europeu",),
    }),
    ("Red Cross", "ORG", _ORG, {
        "fr": ("Croix-Rouge",),
        "es": ("Cruz Roja",),
        "nl": ("Rode Kruis",),
        "de": ("Rotes Kreuz", "Deutsches Rotes Kreuz", "DRK"),
        "it": ("Croce Rossa",),
        "pt": ("Cruz Vermelha",),
    }),
    ("International Committee of the Red Cross", "ORG", _ORG, {
        "en": ("ICRC",),
        "fr": ("CICR", "Comité international de la Croix-Rouge"),
        "es": ("CICR", "Comité Internacional de la Cruz Roja"),
        "nl": ("ICRC", "Internationaal Comité van het Rode Kruis"),
        "de": ("IKRK", "Internationales Komitee vom Roten Kreuz"),
        "it": ("CICR", "Comitato internazionale della Croce Rossa"),
        "pt": ("CICV", "Comitê Internacional da Cruz Vermelha"),
    }),
    ("OSCE", "ORG", _ORG, {
        "en": ("Organization for Security and Co-operation in Europe",),
        "fr": ("OSCE", "Organisation pour la sécurité et la coopération en Europe"),
        "es": ("OSCE", "Organización para la Seguridad y la Cooperación en Europa"),
        "nl": ("OVSE", "Organisatie voor Veiligheid en Samenwerking in Europa"),
        "de": ("OSZE", "Organisation für Sicherheit und Zusammenarbeit in Europa"),
        "it": ("OSCE",),
        "pt": ("OSCE",),
    }),
    ("International Criminal Court", "ORG", _ORG, {
        "fr": ("CPI", "Cour pénale internationale"),
        "es": ("CPI", "Corte Penal Internacional"),
        "nl": ("Internationaal Strafhof",),
        "de": ("IStGH", "Internationaler Strafgerichtshof"),
        "it": ("CPI", "Corte penale internazionale"),
        "pt": ("TPI", "Tribunal Penal Internacional"),
    }),
    ("International Atomic Energy Agency", "ORG", _ORG, {
        "fr": ("AIEA", "Agence internationale de l'énergie atomique"),
        "es": ("OIEA", "Organismo Internacional de Energía Atómica"),
        "nl": ("IAEA", "Internationaal Atoomenergieagentschap"),
        "de": ("IAEA", "Internationale Atomenergiebehörde", "Internationale Atomenergie-Organisation"),
        "it": ("AIEA", "Agenzia internazionale per l'energia atomica"),
        "pt": ("AIEA", "Agência Internacional de Energia Atômica"),
    }),
    ("OPEC", "ORG", _ORG, {
        "fr": ("OPEP",),
        "es": ("OPEP",),
        "nl": ("OPEC",),
        "de": ("OPEC", "Opec"),
        "it": ("OPEC", "Opec"),
        "pt": ("OPEP",),
    }),
    ("African Union", "ORG", _ORG, {
        "fr": ("UA", "Union africaine"),
        "es": ("UA", "Unión Africana"),
        "nl": ("AU", "Afrikaanse Unie"),
        "de": ("AU", "Afrikanische Union"),
        "it": ("UA", "Unione africana"),
        "pt": ("UA", "União Africana"),
    }),
)  # fmt: skip

#: Capitals and major cities whose names differ by language.
PLACES: tuple[AliasRow, ...] = (
    ("Moscow", "GPE", _PLACE, {"fr": ("Moscou",), "es": ("Moscú",), "nl": ("Moskou",), "de": ("Moskau",),
                               "it": ("Mosca",), "pt": ("Moscovo", "Moscou")}),
    ("Beijing", "GPE", _PLACE, {"en": ("Peking",), "fr": ("Pékin",), "es": ("Pekín",), "nl": ("Peking",),
                                "de": ("Peking",), "it": ("Pechino",), "pt": ("Pequim",)}),
    ("Munich", "GPE", _PLACE, {"es": ("Múnich",), "nl": ("München",), "de": ("München",),
                               "it": ("Monaco di Baviera",), "pt": ("Munique",)}),
    ("Cologne", "GPE", _PLACE, {"es": ("Colonia",), "nl": ("Keulen",), "de": ("Köln",), "it": ("Colonia",),
                                "pt": ("Colónia",)}),
    ("Vienna", "GPE", _PLACE, {"fr": ("Vienne",), "es": ("Viena",), "nl": ("Wenen",), "de": ("Wien",),
                               "pt": ("Viena",)}),
    ("The Hague", "GPE", _PLACE, {"en": ("Hague",), "fr": ("La Haye", "Haye"), "es": ("La Haya", "Haya"),
                                  "nl": ("Den Haag",), "de": ("Den Haag",), "it": ("L'Aia", "Aia"),
                                  "pt": ("Haia",)}),
    ("Brussels", "GPE", _PLACE, {"fr": ("Bruxelles",), "es": ("Bruselas",), "nl": ("Brussel",),
                                 "de": ("Brüssel",), "it": ("Bruxelles",), "pt": ("Bruxelas",)}),
    ("Geneva", "GPE", _PLACE, {"fr": ("Genève",), "es": ("Ginebra",), "nl": ("Genève",), "de": ("Genf",),
                               "it": ("Ginevra",), "pt": ("Genebra",)}),
    ("Warsaw", "GPE", _PLACE, {"fr": ("Varsovie",), "es": ("Varsovia",), "nl": ("Warschau",),
                               "de": ("Warschau",), "it": ("Varsavia",), "pt": ("Varsóvia",)}),
    ("Lisbon", "GPE", _PLACE, {"fr": ("Lisbonne",), "es": ("Lisboa",), "nl": ("Lissabon",),
                               "de": ("Lissabon",), "it": ("Lisbona",), "pt": ("Lisboa",)}),
    ("London", "GPE", _PLACE, {"fr": ("Londres",), "es": ("Londres",), "nl": ("Londen",), "it": ("Londra",),
                               "pt": ("Londres",)}),
    ("Rome", "GPE", _PLACE, {"es": ("Roma",), "de": ("Rom",), "it": ("Roma",), "pt": ("Roma",)}),
    ("Athens", "GPE", _PLACE, {"fr": ("Athènes",), "es": ("Atenas",), "nl": ("Athene",), "de": ("Athen",),
                               "it": ("Atene",), "pt": ("Atenas",)}),
    ("Prague", "GPE", _PLACE, {"es": ("Praga",), "nl": ("Praag",), "de": ("Prag",), "it": ("Praga",),
                               "pt": ("Praga",)}),
    ("Copenhagen", "GPE", _PLACE, {"fr": ("Copenhague",), "es": ("Copenhague",), "nl": ("Kopenhagen",),
                                   "de": ("Kopenhagen",), "it": ("Copenaghen",), "pt": ("Copenhaga",)}),
    ("Milan", "GPE", _PLACE, {"es": ("Milán",), "nl": ("Milaan",), "de": ("Mailand",), "it": ("Milano",),
                              "pt": ("Milão",)}),
    ("Venice", "GPE", _PLACE, {"fr": ("Venise",), "es": ("Venecia",), "nl": ("Venetië",), "de": ("Venedig",),
                               "it": ("Venezia",), "pt": ("Veneza",)}),
    ("Naples", "GPE", _PLACE, {"es": ("Nápoles",), "nl": ("Napels",), "de": ("Neapel",), "it": ("Napoli",),
                               "pt": ("Nápoles",)}),
    ("Antwerp", "GPE", _PLACE, {"fr": ("Anvers",), "es": ("Amberes",), "nl": ("Antwerpen",),
                                "de": ("Antwerpen",), "it": ("Anversa",), "pt": ("Antuérpia",)}),
    ("Zurich", "GPE", _PLACE, {"es": ("Zúrich",), "nl": ("Zürich",), "de": ("Zürich",), "it": ("Zurigo",),
                               "pt": ("Zurique",)}),
    ("Kyiv", "GPE", _PLACE, {"en": ("Kiev",), "fr": ("Kiev", "Kyiv"), "es": ("Kiev",), "nl": ("Kiev", "Kyiv"),
                             "de": ("Kiew",), "it": ("Kiev",), "pt": ("Kiev",)}),
    ("Jerusalem", "GPE", _PLACE, {"fr": ("Jérusalem",), "es": ("Jerusalén",), "it": ("Gerusalemme",),
                                  "pt": ("Jerusalém",)}),
    ("Cairo", "GPE", _PLACE, {"fr": ("Le Caire", "Caire"), "es": ("El Cairo",), "nl": ("Caïro",),
                              "de": ("Kairo",), "it": ("Il Cairo",)}),
    ("Tokyo", "GPE", _PLACE, {"es": ("Tokio",), "nl": ("Tokio",), "de": ("Tokio",), "pt": ("Tóquio",)}),
    ("Bucharest", "GPE", _PLACE, {"fr": ("Bucarest",), "es": ("Bucarest",), "nl": ("Boekarest",),
                                  "de": ("Bukarest",), "it": ("Bucarest",), "pt": ("Bucareste",)}),
    ("Belgrade", "GPE", _PLACE, {"es": ("Belgrado",), "nl": ("Belgrado",), "de": ("Belgrad",),
                                 "it": ("Belgrado",), "pt": ("Belgrado",)}),
    ("Saint Petersburg", "GPE", _PLACE, {"en": ("St. Petersburg", "St Petersburg"),
                                         "fr": ("Saint-Pétersbourg",), "es": ("San Petersburgo",),
                                         "nl": ("Sint-Petersburg",), "de": ("Sankt Petersburg",),
                                         "it": ("San Pietroburgo",), "pt": ("São Petersburgo",)}),
    ("Strasbourg", "GPE", _PLACE, {"es": ("Estrasburgo",), "nl": ("Straatsburg",), "de": ("Straßburg",),
                                   "it": ("Strasburgo",), "pt": ("Estrasburgo",)}),
    ("Damascus", "GPE", _PLACE, {"fr": ("Damas",), "es": ("Damasco",), "de": ("Damaskus",),
                                 "it": ("Damasco",), "pt": ("Damasco",)}),
    ("Tehran", "GPE", _PLACE, {"fr": ("Téhéran",), "es": ("Teherán",), "nl": ("Teheran",), "de": ("Teheran",),
                               "it": ("Teheran",), "pt": ("Teerã", "Teerão")}),
    ("Istanbul", "GPE", _PLACE, {"es": ("Estambul",), "nl": ("Istanboel",), "pt": ("Istambul",)}),
    ("Seoul", "GPE", _PLACE, {"fr": ("Séoul",), "es": ("Seúl",), "it": ("Seul",), "pt": ("Seul",)}),
    ("Bern", "GPE", _PLACE, {"fr": ("Berne",), "es": ("Berna",), "it": ("Berna",), "pt": ("Berna",)}),
    ("Hamburg", "GPE", _PLACE, {"fr": ("Hambourg",), "es": ("Hamburgo",), "it": ("Amburgo",),
                                "pt": ("Hamburgo",)}),
    ("Frankfurt", "GPE", _PLACE, {"fr": ("Francfort",), "es": ("Fráncfort",), "it": ("Francoforte",)}),
    ("New York", "GPE", _PLACE, {"es": ("Nueva York",), "pt": ("Nova Iorque",)}),
)  # fmt: skip

#: People whose names are written differently by language.  A courtesy title or office inside a variant
#: ("Papst Franziskus") is matched on the mention as written, before titles are stripped.
PEOPLE: tuple[AliasRow, ...] = (
    ("Pope Francis", "PERSON", _PERSON, {"en": ("Pope Francis",), "fr": ("pape François",),
                                         "es": ("papa Francisco",), "nl": ("paus Franciscus",),
                                         "de": ("Papst Franziskus",), "it": ("papa Francesco",),
                                         "pt": ("papa Francisco",)}),
    ("Vladimir Putin", "PERSON", _PERSON, {"fr": ("Vladimir Poutine", "Poutine"), "nl": ("Vladimir Poetin",
                                           "Poetin"), "de": ("Wladimir Putin",), "es": ("Vladímir Putin",)}),
    ("Volodymyr Zelensky", "PERSON", _PERSON, {"en": ("Volodymyr Zelenskyy", "Zelenskyy", "Zelenskiy"),
                                               "de": ("Wolodymyr Selenskyj", "Selenskyj"),
                                               "es": ("Volodímir Zelenski", "Zelenski"),
                                               "nl": ("Volodymyr Zelenski", "Zelenski"),
                                               "it": ("Volodymyr Zelensky",)}),
)  # fmt: skip

#: Country names in use that CLDR's one name per language does not give (the CLDR names are in
#: :mod:`.country_names`): the acronyms each language writes, and "Great Britain" for the United Kingdom.
COUNTRIES: tuple[AliasRow, ...] = (
    ("United States", "GPE", _PLACE + _ORG, {"fr": ("USA",), "es": ("EEUU", "EUA"), "nl": ("VS", "USA"),
                                             "de": ("USA", "US"), "it": ("USA",), "pt": ("EUA",)}),
    ("United Kingdom", "GPE", _PLACE + _ORG, {"fr": ("Grande-Bretagne",), "es": ("Gran Bretaña",),
                                              "nl": ("Groot-Brittannië", "VK"), "de": ("Großbritannien",),
                                              "it": ("Gran Bretagna",), "pt": ("Grã-Bretanha",)}),
    ("Soviet Union", "GPE", _PLACE + _ORG, {"fr": ("Union soviétique", "URSS"),
                                            "es": ("Unión Soviética", "URSS"), "nl": ("Sovjet-Unie",),
                                            "de": ("Sowjetunion", "UdSSR"),
                                            "it": ("Unione Sovietica", "URSS"),
                                            "pt": ("União Soviética", "URSS")}),
)  # fmt: skip

MULTILINGUAL_TABLE: tuple[AliasRow, ...] = ORGANISATIONS + PLACES + PEOPLE + COUNTRIES
