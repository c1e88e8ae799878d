"""Hand-written articles for cross-lingual story tests (written for these tests, not evaluation data):
one event reported in English and in German, and an unrelated event reported in German."""

from __future__ import annotations

FERRY_EN = (
    "Ferry runs aground on the Rhine near Koblenz, 40 passengers rescued",
    "A passenger ferry ran aground on the Rhine near Koblenz on Tuesday evening, and fire crews rescued "
    "all 40 people on board in a three-hour operation, police said. The vessel, operated by a regional "
    "shipping company, struck a sandbank shortly after leaving the pier at Ehrenbreitstein. Water levels "
    "on the river have fallen sharply after weeks without rain. Rescuers used inflatable boats to bring "
    "the passengers, among them a school class from Mainz, to the bank. Three people were treated for "
    "mild hypothermia, a spokesman for the Koblenz fire brigade said. Shipping on the stretch between "
    "Koblenz and Lahnstein was halted overnight while salvage teams tried to free the ferry. The Federal "
    "Waterways Office said the low water was making navigation on the Middle Rhine increasingly "
    "difficult and warned that more restrictions on cargo barges could follow this week. Police have "
    "opened an investigation into the cause of the accident and questioned the captain, who was not "
    "injured.",
)

FERRY_DE = (
    "Fähre läuft bei Koblenz auf Grund – 40 Passagiere gerettet",
    "Auf dem Rhein bei Koblenz ist am Dienstagabend eine Personenfähre auf Grund gelaufen. Feuerwehr "
    "und Wasserschutzpolizei brachten alle 40 Menschen an Bord in einem dreistündigen Einsatz in "
    "Sicherheit, wie die Polizei mitteilte. Das Schiff einer regionalen Reederei war kurz nach dem "
    "Ablegen am Anleger Ehrenbreitstein auf eine Sandbank geraten. Nach wochenlanger Trockenheit ist "
    "der Pegel des Flusses stark gesunken. Die Retter holten die Fahrgäste, darunter eine Schulklasse "
    "aus Mainz, mit Schlauchbooten ans Ufer. Drei Menschen wurden wegen leichter Unterkühlung "
    "behandelt, sagte ein Sprecher der Koblenzer Feuerwehr. Die Schifffahrt zwischen Koblenz und "
    "Lahnstein wurde über Nacht eingestellt, während Bergungsteams versuchten, die Fähre freizubekommen. "
    "Das Wasserstraßen- und Schifffahrtsamt erklärte, das Niedrigwasser erschwere die Schifffahrt am "
    "Mittelrhein zunehmend, und warnte vor weiteren Einschränkungen für Frachtschiffe in dieser Woche. "
    "Die Polizei ermittelt zur Unfallursache und hat den unverletzten Kapitän befragt.",
)

BUDGET_DE = (
    "Stadtrat von Leipzig beschließt Haushalt mit Millionen für Schulen",
    "Der Leipziger Stadtrat hat am Mittwoch nach einer mehr als siebenstündigen Debatte den Doppelhaushalt "
    "für die kommenden zwei Jahre beschlossen. Der Etat sieht Ausgaben von rund 2,4 Milliarden Euro pro "
    "Jahr vor, davon gut 180 Millionen Euro für den Neubau und die Sanierung von Schulen und Kitas. "
    "Oberbürgermeister Burkhard Jung sprach von einem Haushalt der Verantwortung, der trotz sinkender "
    "Steuereinnahmen Investitionen sichere. Die Opposition kritisierte die steigende Verschuldung der "
    "Stadt und forderte Einsparungen bei Verwaltung und Prestigeprojekten. Auch die Verkehrsbetriebe "
    "erhalten mehr Geld: Neue Straßenbahnen sollen ab dem kommenden Jahr ausgeliefert werden, und die "
    "Preise für Monatskarten bleiben vorerst stabil. Der Haushalt muss noch von der Landesdirektion "
    "Sachsen genehmigt werden, was in der Regel einige Wochen dauert. Kämmerer Torsten Bonew kündigte an, "
    "die Ausgaben im Laufe des Jahres genau zu überwachen.",
)


def as_file(article: tuple[str, str]) -> str:
    """The article as a plain-text file: the headline on the first line, a blank line, the body."""
    title, text = article
    return f"{title}\n\n{text}\n"
