#!/usr/bin/python3
"""How the classifier's out-of-fold micro-F1 grows with the labelled corpus (issue 9).

For each fraction of data/corpus/posts.jsonl (a seeded random subset, the same every run) it runs
`govwatchd train --corpus SUBSET --report` and reads the out-of-fold micro-F1 over the subset's
train and dev splits: three folds, each model trained on two of them, as `train --report` always
does. The test split is never read: the trainer skips it, and so does the count here. Then it fits
micro-F1 = a + b·log2(examples) over the runs and says how many times today's corpus the fitted
line would need to reach --target.

The figures are out of fold, over train and dev, where the rules were written: optimistic against
the test split by about as much at every size, so the slope is what to read, not the level. A
line in log2 is itself optimistic for the larger sizes (learning curves flatten), so the
"times the corpus" it prints is a lower bound.

usage: bench/learning-curve.py [--govwatchd build/govwatchd] [--corpus FILE] [--rules FILE]
                               [--fractions 0.125,0.25,0.5,0.75,1] [--seeds 3] [--target 0.93]
"""
import argparse
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
split_of = __import__("corpus-build").split_of  # corpus_split_of() of src/corpus.c


def trained_on(line):
    """Whether a corpus line is in the train or dev split."""
    return split_of(json.loads(line)["text"]) != "test"


def subset(lines, fraction, seed):
    """The lines a fraction keeps: each with probability fraction, the same for the same seed."""
    if fraction >= 1:
        return list(lines)
    rng = random.Random(f"{seed}:{fraction}")
    return [line for line in lines if rng.random() < fraction]


def micro_f1(govwatchd, corpus, rules, workdir):
    """Out-of-fold micro-F1 that `govwatchd train --report` prints for corpus."""
    cmd = [govwatchd, "train", "--corpus", corpus, "--out", os.path.join(workdir, "model.bin"),
           "--report"]
    if rules:
        cmd += ["--rules", rules]
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    found = re.search(r"micro F1 ([0-9.]+)", run.stderr)
    if run.returncode != 0 or not found:
        sys.exit(f"learning-curve: {' '.join(cmd)} failed ({run.returncode}):\n{run.stderr}")
    return float(found.group(1))


def fit_line(points):
    """Least squares of F = a + b·x over (x, F) points; (a, b)."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        raise ValueError("learning-curve: every run had the same number of examples")
    b = sum((x - mx) * (y - my) for x, y in points) / sxx
    return my - b * mx, b


def times_corpus(a, b, examples, target):
    """How many times `examples` the line a + b·log2(n) needs to reach target (inf: never)."""
    if b <= 0:
        return math.inf
    return 2 ** ((target - a) / b) / examples


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--govwatchd", default=os.path.join(ROOT, "build", "govwatchd"))
    ap.add_argument("--corpus", default=os.path.join(ROOT, "data", "corpus", "posts.jsonl"))
    ap.add_argument("--rules")
    ap.add_argument("--fractions", default="0.125,0.25,0.5,0.75,1")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--target", type=float, default=0.93)
    o = ap.parse_args()
    try:
        fractions = [float(f) for f in o.fractions.split(",")]
    except ValueError:
        ap.error(f"--fractions: not a list of numbers: {o.fractions}")
    if not fractions or any(not 0 < f <= 1 for f in fractions) or o.seeds < 1:
        ap.error("--fractions must lie in (0, 1], and --seeds be at least 1")

    with open(o.corpus, encoding="utf-8") as f:
        lines = [line for line in f if line.strip()]
    points = []
    print("| fraction | train + dev examples | out-of-fold micro-F1 by seed | mean |")
    print("|--:|--:|---|--:|")
    with tempfile.TemporaryDirectory(prefix="learning-curve.") as workdir:
        for fraction in fractions:
            runs = []
            for seed in range(1, 1 + (1 if fraction >= 1 else o.seeds)):
                kept = subset(lines, fraction, seed)
                path = os.path.join(workdir, "corpus.jsonl")
                with open(path, "w", encoding="utf-8") as f:
                    f.writelines(kept)
                n = sum(trained_on(line) for line in kept)
                runs.append((n, micro_f1(o.govwatchd, path, o.rules, workdir)))
                points.append((math.log2(n), runs[-1][1]))
            mean_n = sum(n for n, _ in runs) / len(runs)
            figures = " ".join(f"{f1:.3f}" for _, f1 in runs)
            print(f"| {fraction:g} | {mean_n:.0f} | {figures} | "
                  f"{sum(f1 for _, f1 in runs) / len(runs):.3f} |")
    a, b = fit_line(points)
    everything = sum(trained_on(line) for line in lines)
    need = times_corpus(a, b, everything, o.target)
    print(f"\nfitted: micro-F1 = {a:.3f} + {b:.4f} × log2(examples), {b:.4f} a doubling")
    print(f"to reach {o.target:g}: " + ("never, on this line" if math.isinf(need) else
          f"about {need:.0f} × today's {everything} examples"))


if __name__ == "__main__":
    main()
