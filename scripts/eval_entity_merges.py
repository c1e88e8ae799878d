"""Precision and recall of entity resolution across articles on a hand-labelled set of name pairs.

    python scripts/eval_entity_merges.py [--show 0]

``scripts/data/entity_table.tsv`` is a global entity table built from the AllSides corpus: the enricher's
NER and canonicalisation over the title and first 2,000 characters of 1,200 articles drawn with a fixed
seed; ``type``, ``name``, ``article_count`` and the surface forms (aliases) of every PERSON, ORG, GPE,
NORP, LOC and FAC entity.
``scripts/data/entity_pairs.tsv`` holds pairs of its names judged by hand (``type``, ``a``, ``b``, ``same``:
1 when both name one real-world entity, 0 when not): every merge the resolver proposes on the table, plus
candidate pairs found by looser rules than the resolver's (a shared surname, one word one or two edits
apart, an acronym matching initials, a title or suffix removed) without its uniqueness and rarity checks,
so that both the merges it misses and the ones it must not make are counted.

Precision: of the labelled pairs the resolver makes one entity, the share judged the same.  Recall: of the
pairs judged the same, the share the resolver makes one entity.  Unlabelled proposals are listed (they
would need a judgement before a figure is trusted).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.enrich.entities.resolution import EntityRow, merge_pairs, propose_merges

DATA = Path(__file__).with_name("data")


def read_table(path: Path) -> list[EntityRow]:
    rows: list[EntityRow] = []
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        kind, name, count, aliases = line.split("\t")
        surfaces = frozenset(a for a in aliases.split(" | ") if a)
        rows.append(EntityRow(name=name, type=kind, article_count=int(count), aliases=surfaces))
    return rows


def read_pairs(path: Path) -> dict[tuple[str, str, str], bool]:
    pairs: dict[tuple[str, str, str], bool] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, a, b, same = line.split("\t")
        first, second = sorted((a.casefold(), b.casefold()))
        pairs[(kind, first, second)] = same.strip() == "1"
    return pairs


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--table", type=Path, default=DATA / "entity_table.tsv")
    parser.add_argument("--pairs", type=Path, default=DATA / "entity_pairs.tsv")
    parser.add_argument("--show", type=int, default=0, help="print N proposals with their reasons")
    args = parser.parse_args()
    if not args.table.is_file() or not args.pairs.is_file():
        print(f"labelled set not found ({args.table}, {args.pairs}); skipping", file=sys.stderr)
        return 2
    table = read_table(args.table)
    labels = read_pairs(args.pairs)
    proposals = propose_merges(table)
    merged = merge_pairs(proposals)

    judged = {pair for pair in merged if pair in labels}
    true_positive = sum(1 for pair in judged if labels[pair])
    positives = sum(1 for same in labels.values() if same)
    found = sum(1 for pair, same in labels.items() if same and pair in merged)
    precision = true_positive / len(judged) if judged else 1.0
    recall = found / positives if positives else 0.0
    by_rule: dict[str, list[int]] = {}
    for p in proposals:
        first, second = sorted((p.source.casefold(), p.target.casefold()))
        verdict = labels.get((p.type, first, second))
        stats = by_rule.setdefault(p.rule, [0, 0, 0])
        stats[0] += 1
        stats[1] += verdict is True
        stats[2] += verdict is False
    print(
        f"entity table: {len(table)} names; labelled pairs: {len(labels)} ({positives} same, "
        f"{len(labels) - positives} different); proposals: {len(proposals)}"
    )
    print(
        f"merge precision {precision:.3f} ({true_positive}/{len(judged)} judged merged pairs right), "
        f"recall {recall:.3f} ({found}/{positives} same pairs merged)"
    )
    for rule, (count, right, wrong) in sorted(by_rule.items()):
        print(f"  {rule:<11} {count:4d} proposals, {right} judged right, {wrong} judged wrong")
    unjudged = sorted(merged - set(labels))
    if unjudged:
        print(f"  {len(unjudged)} merged pairs not labelled, e.g. {unjudged[:3]}")
    for p in proposals[: args.show]:
        print(f"  {p.type:<7} {p.source!r} -> {p.target!r} [{p.rule}] {p.reason}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
