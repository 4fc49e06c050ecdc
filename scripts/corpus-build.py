#!/usr/bin/python3
"""Builds data/corpus/posts.jsonl from the collected and labelled texts in data/corpus/raw/.

  scripts/corpus-build.py [--check]

raw/collect-X.jsonl    texts found with the search tool, each with its source address and the
                       collector's labels: {"text", "source", "labels", "query"}
raw/synthetic-X.jsonl  VK-style posts written for the corpus, with the writer's labels (and a
                       "date", sometimes "attachments"); "origin": "synthetic" in the output
raw/blind-X.jsonl, raw/blind-synthetic-X.jsonl
                       the same texts labelled again by someone who saw neither the first labels
                       nor the other files: {"source", "labels", "start_time", "start_day"}
raw/resolved.jsonl     the decision on each real text the two labellers disagreed on:
                       {"source", "labels"} to keep it with those labels, {"source", "drop": true};
                       a synthetic post they disagree on is dropped

A text is kept when both labellers agree or the disagreement was resolved; a text that is a
near-duplicate of one kept before it (the same announcement on another site) is dropped, so no
story can sit in two splits. Output order is stable (file name, then line), ids are 1..N.
--check rebuilds in memory and fails when posts.jsonl differs (the corpus test runs it).
"""
import glob
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "data", "corpus")
RAW = os.path.join(CORPUS, "raw")
OUT = os.path.join(CORPUS, "posts.jsonl")
CATEGORIES = ["civic", "emergency", "live", "outage", "schedule", "service"]
NEAR_DUPLICATE = 0.5  # shingle containment of the shorter text


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield n, json.loads(line)
                except json.JSONDecodeError as e:
                    sys.exit(f"{path}:{n}: {e}")


def words(text):
    return re.findall(r"\w+", text.lower().replace("ё", "е"))


def shingles(text, n=5):
    w = words(text)
    return {" ".join(w[i:i + n]) for i in range(max(1, len(w) - n + 1))}


def containment(a, b):
    return len(a & b) / max(1, min(len(a), len(b)))


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for byte in data:
        h ^= byte
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def split_of(text):
    """corpus_split_of() of src/corpus.c."""
    b = fnv1a64(text.encode("utf-8")) % 100
    return "test" if b < 20 else "dev" if b < 35 else "train"


def build():
    blind, resolved = {}, {}
    for path in sorted(glob.glob(os.path.join(RAW, "blind-*.jsonl"))):
        name = os.path.basename(path)[len("blind-"):]
        for _, o in read_jsonl(path):
            blind[(name, o["source"])] = o
    path = os.path.join(RAW, "resolved.jsonl")
    if os.path.exists(path):
        for _, o in read_jsonl(path):
            resolved[o["source"]] = o
    stats = {"collected": 0, "agreed": 0, "disagreed": 0, "resolved": 0, "dropped": 0,
             "unlabelled": 0, "duplicates": 0, "short": 0, "pairs": []}
    kept, kept_shingles, seen_sources = [], [], set()
    collections = [(p, "real", os.path.basename(p)[len("collect-"):])
                   for p in sorted(glob.glob(os.path.join(RAW, "collect-*.jsonl")))]
    collections += [(p, "synthetic", os.path.basename(p))
                    for p in sorted(glob.glob(os.path.join(RAW, "synthetic-*.jsonl")))]
    for path, origin, name in collections:
        for n, o in read_jsonl(path):
            text, source = o["text"].strip(), o["source"]
            stats["collected"] += 1
            if source in seen_sources:
                stats["duplicates"] += 1
                continue
            seen_sources.add(source)
            if len(text) < 60 or (origin == "real" and len(text) < 100):
                stats["short"] += 1
                continue
            first = sorted(o["labels"])
            bad = [x for x in first if x not in CATEGORIES]
            if bad:
                sys.exit(f"{path}:{n}: unknown categories {bad}")
            second = blind.get((name, source))
            if second is None:
                stats["unlabelled"] += 1
                continue
            stats["pairs"].append((first, sorted(second["labels"])))
            if sorted(second["labels"]) == first:
                stats["agreed"] += 1
                labels = first
            else:
                stats["disagreed"] += 1
                r = resolved.get(source) if origin == "real" else None
                if r is None or r.get("drop"):
                    stats["dropped"] += 1
                    continue
                stats["resolved"] += 1
                labels = sorted(r["labels"])
            sh = shingles(text)
            if any(containment(sh, k) >= NEAR_DUPLICATE for k in kept_shingles):
                stats["duplicates"] += 1
                continue
            kept_shingles.append(sh)
            post = {"text": text}
            for key in ("date", "attachments"):
                if key in o:
                    post[key] = o[key]
            post.update({"labels": labels, "source": source, "origin": origin})
            start = second if second.get("start_time") else o
            if "live" in labels and start.get("start_time"):
                post["start_time"] = start["start_time"]
                if start.get("start_day"):
                    post["start_day"] = start["start_day"]
            kept.append(post)
    lines = []
    for i, o in enumerate(kept, 1):
        post = {"id": i, "owner_id": o.pop("owner_id", 0)}
        post.update(o)
        post["id"] = i
        lines.append(json.dumps(post, ensure_ascii=False, sort_keys=False) + "\n")
    return "".join(lines), stats, kept


def main():
    text, stats, kept = build()
    if "--check" in sys.argv:
        with open(OUT, encoding="utf-8") as f:
            if f.read() != text:
                sys.exit("data/corpus/posts.jsonl is not what scripts/corpus-build.py makes of "
                         "data/corpus/raw/: run it and commit the result")
        return
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)
    real = [o for o in kept if o["origin"] == "real"]
    synthetic = [o for o in kept if o["origin"] == "synthetic"]
    both = stats["agreed"] + stats["disagreed"]
    pairs = stats.pop("pairs")
    print(json.dumps(stats, ensure_ascii=False))
    if both:
        print(f"agreement on the whole label set: {stats['agreed']}/{both} = "
              f"{stats['agreed'] / both:.3f}")
        for c in CATEGORIES:
            a = sum((c in x) == (c in y) for x, y in pairs)
            p1 = sum(c in x for x, _ in pairs) / len(pairs)
            p2 = sum(c in y for _, y in pairs) / len(pairs)
            pe = p1 * p2 + (1 - p1) * (1 - p2)
            kappa = (a / len(pairs) - pe) / (1 - pe) if pe < 1 else 1.0
            print(f"  {c:10} agreement {a / len(pairs):.3f}  Cohen's kappa {kappa:.3f}")
    print(f"kept {len(kept)} posts, {len(real)} real, {len(synthetic)} synthetic")
    for what, posts in (("real", real), ("synthetic", synthetic)):
        for split in ("train", "dev", "test"):
            part = [o for o in posts if split_of(o["text"]) == split]
            counts = " ".join(f"{c} {sum(c in o['labels'] for o in part)}" for c in CATEGORIES)
            none = sum(not o["labels"] for o in part)
            print(f"  {split:5} {len(part):4} {what}: {counts}, none {none}")


if __name__ == "__main__":
    main()
