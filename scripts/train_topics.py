"""Train the topic classifier on the hand-written examples and write its weights.

    python scripts/train_topics.py [--check]

Embeds ``services/enrich/nlp/data/topic_examples.tsv`` with the packaged all-MiniLM-L6-v2, fits the
calibration temperature on 5-fold cross-validated logits of the examples, trains on every example and
writes ``services/enrich/nlp/data/topic_model.npz``.  ``--check`` writes nothing and exits 1 when the
stored weights differ from what training gives now.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from services.enrich.nlp.embedder import SentenceEmbedder
from services.enrich.nlp.topics import DEFAULT_C, WEIGHTS_PATH, TopicModel, load_examples, train


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="compare with the stored weights")
    parser.add_argument("--c", type=float, default=DEFAULT_C, help="L2 strength (larger is weaker)")
    args = parser.parse_args()

    examples = load_examples()
    embeddings = SentenceEmbedder().embed([text for _, text in examples])
    report = train(embeddings, [code for code, _ in examples], c=args.c)
    model = report.model
    print(
        f"{len(examples)} examples, C={model.c:g}; "
        f"5-fold cross-validated: accuracy {report.cv_accuracy:.3f}, "
        f"log-loss {report.cv_log_loss:.4f} at T=1, {report.cv_log_loss_calibrated:.4f} at the fitted "
        f"T={model.temperature:.3f}; expected calibration error {report.cv_expected_calibration_error:.3f}"
    )
    if args.check:
        stored = TopicModel.load(WEIGHTS_PATH)
        same = (
            stored.c == model.c
            and np.allclose(stored.weights, model.weights, atol=1e-4)
            and np.allclose(stored.bias, model.bias, atol=1e-4)
            and abs(stored.temperature - model.temperature) < 1e-4
        )
        print("stored weights are up to date" if same else "stored weights differ: run without --check")
        return 0 if same else 1
    model.save(WEIGHTS_PATH)
    print(f"wrote {WEIGHTS_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
