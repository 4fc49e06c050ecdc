"""The shipped corpus and the model made from it keep their promises.

What a user would notice if this fails: figures in the README that were measured on texts the
model had seen (a test text that is a near-copy of a training one), a model that does not match
the corpus it claims to come from, or a corpus edited by hand so that nobody can say how it was
built.
"""
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

SOURCE_DIR = os.environ.get(
    "GOVWATCH_SOURCE_DIR",
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
GOVWATCHD = os.environ.get("GOVWATCHD", os.path.join(SOURCE_DIR, "build", "govwatchd"))
EVAL = os.path.join(os.path.dirname(GOVWATCHD), "bench-classify-eval")
CORPUS = os.path.join(SOURCE_DIR, "data", "corpus", "posts.jsonl")
RULES = os.path.join(SOURCE_DIR, "data", "rules.yaml")
CATEGORIES = {"live", "service", "schedule", "outage", "emergency", "civic"}

sys.path.insert(0, os.path.join(SOURCE_DIR, "scripts"))
build = __import__("corpus-build")


def load():
    with open(CORPUS, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class CorpusTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.posts = load()
        for p in cls.posts:
            p["_split"] = build.split_of(p["text"])

    def test_size_and_sources(self):
        real = [p for p in self.posts if p["origin"] == "real"]
        self.assertGreaterEqual(len(self.posts), 1000)
        self.assertGreaterEqual(len(real), 600)
        for p in self.posts:
            self.assertTrue(set(p["labels"]) <= CATEGORIES, p["id"])
            self.assertEqual(p["labels"], sorted(p["labels"]), p["id"])
            self.assertIn(p["origin"], ("real", "synthetic"))
            if p["origin"] == "real":
                self.assertRegex(p["source"], r"^https?://", p["id"])
        # every category is in the test split, with its look-alikes (posts with none)
        test = [p for p in real if p["_split"] == "test"]
        for c in CATEGORIES:
            self.assertGreaterEqual(sum(c in p["labels"] for p in test), 5, c)
        self.assertGreaterEqual(sum(not p["labels"] for p in test), 30)

    def test_built_from_raw(self):
        """posts.jsonl is exactly what scripts/corpus-build.py makes of data/corpus/raw/."""
        r = subprocess.run(["/usr/bin/python3", os.path.join(SOURCE_DIR, "scripts",
                                                            "corpus-build.py"), "--check"],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_no_test_text_is_a_near_copy_of_a_training_one(self):
        seen = [(build.shingles(p["text"]), p) for p in self.posts if p["_split"] != "test"]
        index = {}
        for i, (sh, _) in enumerate(seen):
            for s in sh:
                index.setdefault(s, []).append(i)
        for p in self.posts:
            if p["_split"] != "test":
                continue
            sh = build.shingles(p["text"])
            shared = {}
            for s in sh:
                for i in index.get(s, ()):
                    shared[i] = shared.get(i, 0) + 1
            for i, n in shared.items():
                other = seen[i]
                frac = n / max(1, min(len(sh), len(other[0])))
                self.assertLess(frac, build.NEAR_DUPLICATE,
                                "test post %d is a near-copy of %s post %d" %
                                (p["id"], other[1]["_split"], other[1]["id"]))

    def test_split_is_the_daemons(self):
        """The C classifier (corpus_split_of) and this test agree on every post's split."""
        want = sum(p["_split"] == "test" for p in self.posts)
        r = subprocess.run([EVAL, "--no-model", "--split", "test", "--seconds", "0", CORPUS],
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        m = re.search(r"^(\d+) posts \(split test", r.stdout, re.M)
        self.assertIsNotNone(m, r.stdout)
        self.assertEqual(int(m.group(1)), want)


class ModelTest(unittest.TestCase):
    def test_shipped_model_is_the_corpus(self):
        """Training again gives the model the build made, bit for bit: the model is data."""
        shipped = os.path.join(os.path.dirname(GOVWATCHD), "model.bin")
        with tempfile.TemporaryDirectory(prefix="govwatch-model-") as d:
            out = os.path.join(d, "model.bin")
            r = subprocess.run([GOVWATCHD, "train", "--rules", RULES, "--corpus", CORPUS,
                                "--out", out], capture_output=True, text=True, timeout=600)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(out, "rb") as a, open(shipped, "rb") as b:
                self.assertEqual(hashlib.sha256(a.read()).hexdigest(),
                                 hashlib.sha256(b.read()).hexdigest(),
                                 "build/model.bin is not what the corpus trains")

    def test_a_few_examples_barely_move_thresholds(self):
        """An admin's few examples of their own retrain the model; they must not change how many
        posts a category flags. With thresholds where the F-beta curve peaked, these three moved
        schedule's from 0.34 to 0.31 (and a tenth of the corpus left out, by up to 0.24)."""
        def thresholds(*extra):
            with tempfile.TemporaryDirectory(prefix="govwatch-model-") as d:
                r = subprocess.run([GOVWATCHD, "train", "--rules", RULES, "--corpus", CORPUS,
                                    *extra, "--out", os.path.join(d, "m.bin"), "--report"],
                                   capture_output=True, text=True, timeout=600)
            self.assertEqual(r.returncode, 0, r.stderr)
            found = dict(re.findall(r"^  (\w+) .* at ([0-9.]+)", r.stderr, re.M))
            self.assertEqual(set(found), CATEGORIES, r.stderr)
            return {k: float(v) for k, v in found.items()}

        with tempfile.TemporaryDirectory(prefix="govwatch-model-") as d:
            mine = os.path.join(d, "mine.jsonl")
            with open(mine, "w", encoding="utf-8") as f:
                for text, labels in (
                        ("Уважаемые жители! В связи с ухудшением погодных условий администрация "
                         "просит по возможности не выезжать на трассы района до вечера пятницы.",
                         ["emergency"]),
                        ("Дорогие земляки! Поздравляем вас с Днём района и желаем мира, добра и "
                         "благополучия каждой семье.", []),
                        ("Приглашаем жителей принять участие в обсуждении проекта благоустройства "
                         "сквера у дома культуры: предложения принимаются до 20 декабря.",
                         ["civic"])):
                    f.write(json.dumps({"text": text, "labels": labels}, ensure_ascii=False))
                    f.write("\n")
            before, after = thresholds(), thresholds("--examples", mine)
        for k in CATEGORIES:
            self.assertLessEqual(abs(after[k] - before[k]), 0.02, (k, before[k], after[k]))

    def test_train_reports_bad_examples(self):
        with tempfile.TemporaryDirectory(prefix="govwatch-model-") as d:
            bad = os.path.join(d, "mine.jsonl")
            with open(bad, "w", encoding="utf-8") as f:
                f.write('{"text": "Завтра отключат свет", "labels": ["outage"]}\n')
                f.write('{"text": "Опрос", "labels": ["polls"]}\n')
            r = subprocess.run([GOVWATCHD, "train", "--rules", RULES, "--corpus", CORPUS,
                                "--examples", bad, "--out", os.path.join(d, "m.bin")],
                               capture_output=True, text=True, timeout=600)
            self.assertEqual(r.returncode, 1)
            self.assertIn(bad + ':2: unknown category "polls"', r.stderr)
            self.assertFalse(os.path.exists(os.path.join(d, "m.bin")))


if __name__ == "__main__":
    unittest.main()
