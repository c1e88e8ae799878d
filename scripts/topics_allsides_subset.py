"""Would a little real news help the topic classifier?  Hand-written examples plus an AllSides subset.

    python scripts/topics_allsides_subset.py [--eval-dir ../shared/eval]
                                             [--cache-dir /tmp/newswire-topic-cache]

The shipped classifier learns from the hand-written examples alone.  This script trains it on those examples
plus a subset of the AllSides corpus (``allsides_to_iptc.tsv`` maps its topics onto IPTC subjects), the
subset *class-balanced* (every subject the same total weight), *confidence-filtered* (an article is kept when
the shipped model gives its mapped subject a probability of at least tau) and *down-weighted* (the subset
weighs lambda times the examples' total weight), and prints what decides whether it ships:

* the corpus is split by article id: a fifth held out (at most 250 articles a subject), the rest a training
  pool (at most 1,000 a subject), read as ``train_topics.py`` reads it (title and lead);
* tau and lambda are chosen on training data alone, before AG News is read: the mean of the accuracy on a
  fifth of the examples held out (stratified) and the balanced accuracy on a fifth of the pool held out;
* the chosen setting is trained on every example and the whole filtered pool (temperature fitted on
  cross-validated logits, as ``train`` does) and compared with the shipped model on the held-out AllSides
  split (balanced accuracy) and on AG News (as ``eval_topics.py`` scores it);
* it ships only if it beats the shipped model on AG News and does not drop on the held-out split.  For
  information, AG News accuracy of every grid cell (trained on every example and the filtered pool, T=1).

Nothing is written: the weights stay those of ``train_topics.py --examples-only``.  Embeddings are cached
as ``train_topics.py`` caches them.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import numpy.typing as npt
from eval_topics import IPTC_TO_AG, read_ag
from train_topics import embed_cached, lead

from services.enrich.nlp.topics import (
    IPTC_TOPICS,
    TopicModel,
    article_input,
    balanced_accuracy,
    balanced_weights,
    fit_logistic,
    load_examples,
    train,
)

CODES = [code for code, _ in IPTC_TOPICS]
POOL_CAP = 1000
HELD_CAP = 250
TAUS = (0.0, 0.2, 0.5)
LAMBDAS = (0.25, 0.5, 1.0)
ITERATIONS = 1000

Matrix = npt.NDArray[np.float64]
Labels = npt.NDArray[np.int64]


def corpus(eval_dir: Path) -> list[tuple[str, str, bool]]:
    """``(IPTC code, model input, held out)`` of the mapped AllSides articles, capped per subject."""
    code_of_label = {label: code for code, label in IPTC_TOPICS}
    mapping: dict[str, str] = {}
    for line in (eval_dir / "corpus" / "allsides_to_iptc.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        topic, _, label = line.partition("\t")
        if label.strip():
            mapping[topic] = code_of_label[label.strip()]
    rows: list[tuple[str, str, bool]] = []
    taken: dict[tuple[str, bool], int] = {}
    with gzip.open(eval_dir / "corpus" / "allsides.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            code = mapping.get(row["topic"])
            if code is None or not row["text"].strip():
                continue
            held = int(hashlib.sha256(row["id"].encode()).hexdigest(), 16) % 5 == 0
            if taken.get((code, held), 0) >= (HELD_CAP if held else POOL_CAP):
                continue
            taken[(code, held)] = taken.get((code, held), 0) + 1
            rows.append((code, article_input(row["title"], lead(row["text"])), held))
    return rows


def fit(x_examples: Matrix, y_examples: Labels, x_corpus: Matrix, y_corpus: Labels, lam: float) -> TopicModel:
    """Examples at weight 1; the corpus class-balanced, lam times the examples' total weight; T = 1."""
    weights = np.ones(len(y_examples))
    if len(y_corpus):
        corpus_weights = balanced_weights([CODES[i] for i in y_corpus])
        weights = np.concatenate([weights, corpus_weights / corpus_weights.sum() * lam * len(y_examples)])
    x = np.vstack([x_examples, x_corpus])
    y = np.concatenate([y_examples, y_corpus])
    w, b = fit_logistic(x, y, c=1.0, classes=len(CODES), sample_weight=weights, iterations=ITERATIONS)
    return TopicModel(weights=w, bias=b, temperature=1.0, c=1.0)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--eval-dir", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/newswire-topic-cache"))
    args = parser.parse_args()
    ag_rows = read_ag(args.eval_dir, 7600)
    if ag_rows is None or not (args.eval_dir / "corpus" / "allsides.jsonl.gz").is_file():
        print("AG News or the AllSides corpus is missing", file=sys.stderr)
        return 2
    rows = corpus(args.eval_dir)
    examples = load_examples()
    x = embed_cached([text for _, text, _ in rows], args.cache_dir).astype(np.float64)
    y = np.array([CODES.index(code) for code, _, _ in rows], dtype=np.int64)
    held = np.array([h for _, _, h in rows])
    xe = embed_cached([text for _, text in examples], args.cache_dir).astype(np.float64)
    ye = np.array([CODES.index(code) for code, _ in examples], dtype=np.int64)
    xa = embed_cached([article_input(t, d) for _, t, d in ag_rows], args.cache_dir).astype(np.float64)
    ag_gold = np.array([g for g, _, _ in ag_rows])
    print(f"AllSides: {int((~held).sum())} pool, {int(held.sum())} held out; {len(ye)} examples")

    def ag(model: TopicModel) -> float:
        top = model.probabilities(xa).argmax(axis=1)
        return float(np.mean(np.array([IPTC_TO_AG.get(CODES[i], 0) for i in top]) == ag_gold))

    def balanced(model: TopicModel, mask: npt.NDArray[np.bool_]) -> float:
        return balanced_accuracy(np.log(model.probabilities(x[mask]) + 1e-12), y[mask])

    shipped = TopicModel.load()
    p_mapped = shipped.probabilities(x)[np.arange(len(y)), y]
    example_dev = np.zeros(len(ye), dtype=bool)
    for k in np.unique(ye):
        example_dev[np.flatnonzero(ye == k)[::5]] = True
    pool = np.flatnonzero(~held)
    pool_dev = np.zeros(len(y), dtype=bool)
    pool_dev[pool[::5]] = True
    pool_train = ~held & ~pool_dev

    choice: list[tuple[float, float, float]] = []
    print("tau  lambda  corpus  examples-dev acc  AllSides-dev balanced  mean")
    for tau in TAUS:
        for lam in LAMBDAS:
            keep = pool_train & (p_mapped >= tau)
            model = fit(xe[~example_dev], ye[~example_dev], x[keep], y[keep], lam)
            on_examples = float(
                np.mean(model.probabilities(xe[example_dev]).argmax(axis=1) == ye[example_dev])
            )
            on_pool = balanced(model, pool_dev)
            mean = (on_examples + on_pool) / 2
            choice.append((mean, tau, lam))
            print(
                f"{tau:3.1f} {lam:7.2f} {int(keep.sum()):7d} {on_examples:17.3f} {on_pool:22.3f} {mean:5.3f}"
            )
    _, tau, lam = max(choice)
    keep = ~held & (p_mapped >= tau)
    codes = [CODES[i] for i in np.concatenate([ye, y[keep]])]
    corpus_weights = balanced_weights([CODES[i] for i in y[keep]])
    weights = np.concatenate([np.ones(len(ye)), corpus_weights / corpus_weights.sum() * lam * len(ye)])
    report = train(np.vstack([xe, x[keep]]), codes, c=1.0, sample_weight=weights, iterations=ITERATIONS)
    model = report.model
    new_ag, old_ag = ag(model), ag(shipped)
    new_held, old_held = balanced(model, held), balanced(shipped, held)
    print(f"chosen on training data: tau {tau}, lambda {lam} (temperature {model.temperature:.3f})")
    print(f"held-out AllSides balanced accuracy: {new_held:.3f} (shipped {old_held:.3f})")
    print(f"AG News accuracy: {new_ag:.3f} (shipped {old_ag:.3f})")
    print("for information, AG News of every cell (every example + the filtered pool, T=1):")
    for tau_ in TAUS:
        cells = []
        for lam_ in LAMBDAS:
            keep_ = ~held & (p_mapped >= tau_)
            cells.append(f"lambda {lam_}: {ag(fit(xe, ye, x[keep_], y[keep_], lam_)):.3f}")
        print(f"  tau {tau_}: " + ", ".join(cells))
    ships = new_ag > old_ag and new_held >= old_held
    print("verdict: " + ("ships" if ships else "does not ship (the shipped model stays)"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
