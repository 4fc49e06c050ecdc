"""bench/learning-curve.py: that it measures what `govwatchd train --report` measures, on the
subsets it says, and that its fitted line is computed right (not the curve's figures, which belong
in the README)."""
import math
import os
import re
import runpy
import subprocess
import tempfile
import unittest

SOURCE_DIR = os.environ.get("GOVWATCH_SOURCE_DIR", ".")
GOVWATCHD = os.environ.get("GOVWATCHD", os.path.join(SOURCE_DIR, "build", "govwatchd"))
SCRIPT = os.path.join(SOURCE_DIR, "bench", "learning-curve.py")
CORPUS = os.path.join(SOURCE_DIR, "data", "corpus", "posts.jsonl")
RULES = os.path.join(SOURCE_DIR, "data", "rules.yaml")
LC = runpy.run_path(SCRIPT, run_name="learning_curve")


class LineTest(unittest.TestCase):
    def test_fit_and_extrapolation(self):
        # 1000 examples at 0.80, 2000 at 0.85: 0.05 a doubling, so 0.90 needs 4000 = 2 × 2000
        a, b = LC["fit_line"]([(math.log2(1000), 0.80), (math.log2(2000), 0.85)])
        self.assertAlmostEqual(b, 0.05)
        self.assertAlmostEqual(a + b * math.log2(1000), 0.80)
        self.assertAlmostEqual(LC["times_corpus"](a, b, 2000, 0.90), 2.0)
        self.assertEqual(LC["times_corpus"](0.9, 0.0, 2000, 0.93), math.inf)
        self.assertEqual(LC["times_corpus"](0.9, -0.01, 2000, 0.93), math.inf)
        with self.assertRaises(ValueError):
            LC["fit_line"]([(10.0, 0.8), (10.0, 0.9)])

    def test_subsets_are_seeded(self):
        lines = [f"{i}\n" for i in range(2000)]
        half = LC["subset"](lines, 0.5, 1)
        self.assertEqual(half, LC["subset"](lines, 0.5, 1))
        self.assertNotEqual(half, LC["subset"](lines, 0.5, 2))
        self.assertTrue(800 < len(half) < 1200, len(half))
        self.assertEqual(LC["subset"](lines, 1.0, 7), lines)


class SplitTest(unittest.TestCase):
    def test_split_is_the_daemons(self):
        """The script's split (corpus-build.py's) counts the test posts corpus_split_of() does."""
        ev = os.path.join(os.path.dirname(GOVWATCHD), "bench-classify-eval")
        r = subprocess.run([ev, "--no-model", "--split", "test", "--seconds", "0", CORPUS],
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        test = int(re.search(r"^(\d+) posts \(split test", r.stdout, re.M).group(1))
        with open(CORPUS, encoding="utf-8") as f:
            lines = [line for line in f if line.strip()]
        self.assertEqual(sum(LC["trained_on"](line) for line in lines), len(lines) - test)


class RunTest(unittest.TestCase):
    def test_whole_corpus_row_is_train_report(self):
        """The fraction-1 row is `govwatchd train --report`'s micro-F1 on the same corpus."""
        with tempfile.TemporaryDirectory(prefix="govwatch-lc-") as d:
            small = os.path.join(d, "small.jsonl")
            with open(CORPUS, encoding="utf-8") as f, open(small, "w", encoding="utf-8") as out:
                out.writelines(line for i, line in enumerate(f) if i < 900)
            r = subprocess.run([GOVWATCHD, "train", "--rules", RULES, "--corpus", small, "--out",
                                os.path.join(d, "m.bin"), "--report"], capture_output=True,
                               text=True, timeout=600)
            self.assertEqual(r.returncode, 0, r.stderr)
            want = re.search(r"micro F1 ([0-9.]+)", r.stderr).group(1)
            run = subprocess.run(["/usr/bin/python3", SCRIPT, "--govwatchd", GOVWATCHD,
                                  "--corpus", small, "--rules", RULES, "--fractions", "0.5,1",
                                  "--seeds", "1"], capture_output=True, text=True, timeout=600)
            self.assertEqual(run.returncode, 0, run.stderr)
            whole = re.search(r"^\| 1 \| (\d+) \| ([0-9.]+) \|", run.stdout, re.M)
            self.assertIsNotNone(whole, run.stdout)
            self.assertEqual(whole.group(2), want)
            with open(small, encoding="utf-8") as f:
                self.assertEqual(int(whole.group(1)), sum(LC["trained_on"](line) for line in f))
            self.assertRegex(run.stdout,
                             re.compile(r"^\| 0\.5 \| \d+ \| 0\.\d{3} \| 0\.\d{3} \|$", re.M))
            self.assertRegex(run.stdout, r"fitted: micro-F1 = ")

    def test_bad_fractions(self):
        run = subprocess.run(["/usr/bin/python3", SCRIPT, "--govwatchd", GOVWATCHD,
                              "--fractions", "0.5,2"], capture_output=True, text=True, timeout=60)
        self.assertEqual(run.returncode, 2)
        self.assertIn("--fractions must lie in (0, 1]", run.stderr)


if __name__ == "__main__":
    unittest.main()
