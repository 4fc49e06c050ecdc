"""bench-schedsim: the simulation's accounting and its trace files (not its figures).

The benchmark's figures belong in the README; what is tested here is that it counts right: every
post found, the quota never exceeded, round robin's latency as its definition gives it, a trace
written by --write-trace replayed by --trace, and bad trace files refused with their line.
"""
import os
import re
import subprocess
import tempfile
import unittest

SCHEDSIM = os.environ.get("GOVWATCH_SCHEDSIM", "build/bench-schedsim")
ROW = re.compile(r"^(round robin|govwatch \(online\)|oracle \([^)]*\))\s+(.*)$")


def run(*args, expect=0):
    p = subprocess.run([SCHEDSIM, *args], capture_output=True, text=True, timeout=300)
    assert p.returncode == expect, (args, p.returncode, p.stdout, p.stderr)
    return p


def rows(out):
    """{name: {"mean":..,"p95":..,"max24":..,"quota":"ok"|"OVER","miss":..}}"""
    found = {}
    for line in out.splitlines():
        m = ROW.match(line)
        if not m:
            continue
        f = m.group(2).split()
        found[m.group(1).split()[0]] = {
            "mean": float(f[0]), "p50": float(f[1]), "p95": float(f[2]), "max": float(f[3]),
            "max_day": int(f[4]), "max24": int(f[5]), "quota": f[6], "miss": int(f[10])}
    return found


class SchedsimTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="schedsim-")

    def tearDown(self):
        self.dir.cleanup()

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def test_generated_run_finds_every_post_within_the_quota(self):
        out = run("--communities", "40", "--days", "2", "--quota", "400",
                  "--history-days", "3").stdout
        r = rows(out)
        self.assertEqual(set(r), {"round", "govwatch", "oracle"}, out)
        for name, row in r.items():
            self.assertEqual(row["quota"], "ok", (name, out))
            self.assertLessEqual(row["max24"], 400, (name, out))
            self.assertEqual(row["miss"], 0, (name, out))
            self.assertGreater(row["mean"], 0, (name, out))
        # round robin at 400 a day over 40 walls polls every 144 min: no post waits longer
        self.assertLessEqual(r["round"]["max"], 144.0, out)
        self.assertIn("after 3 days of history", out)

    def test_round_robin_latency_is_what_its_definition_gives(self):
        # One wall, 24 polls a day: round robin polls at start, start + 1 h, ... where the
        # simulation starts 1 s before the first post. Posts 1 s, 10, 30 and 50 min (+ 1 s) after
        # the start are found by the poll an hour after it.
        start = 1_700_000_000
        offsets = [1, 1 + 600, 1 + 1800, 1 + 3000]
        with open(self.path("one.csv"), "w") as f:
            f.write("owner_id,unix_time\n")
            for off in offsets:
                f.write("-1,%d\n" % (start + off))
        out = run("--trace", self.path("one.csv"), "--quota", "24", "--history-days", "0").stdout
        waits = [(3600 - off) / 60 for off in offsets]
        rr = rows(out)["round"]
        self.assertAlmostEqual(rr["mean"], sum(waits) / len(waits), delta=0.06, msg=out)
        self.assertAlmostEqual(rr["max"], max(waits), delta=0.06, msg=out)
        self.assertIn("1 communities, 4 posts", out)

    def test_written_trace_replays(self):
        out = run("--communities", "30", "--days", "2", "--quota", "300", "--history-days", "1",
                  "--write-trace", self.path("t.csv")).stdout
        with open(self.path("t.csv")) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines[0], "owner_id,unix_time")
        owners = {int(line.split(",")[0]) for line in lines[1:]}
        self.assertTrue(all(o < 0 for o in owners))
        replay = run("--trace", self.path("t.csv"), "--quota", "300").stdout
        m = re.search(r"(\d+) communities, (\d+) posts over", replay)
        self.assertIsNotNone(m, replay)
        # every wall with a post is in the trace; posts after the first day are measured
        self.assertEqual(int(m.group(1)), len(owners))
        self.assertLess(int(m.group(2)), len(lines) - 1)
        self.assertGreater(int(m.group(2)), 0)
        for name, row in rows(replay).items():
            self.assertEqual((row["quota"], row["miss"]), ("ok", 0), (name, replay))
        self.assertIn("posts", out)

    def test_bad_trace_files_are_refused_with_their_line(self):
        with open(self.path("bad.csv"), "w") as f:
            f.write("owner_id,unix_time\n-1,1700000000\n-1;1700000100\n")
        p = run("--trace", self.path("bad.csv"), expect=1)
        self.assertIn("bad.csv:3: expected owner_id,unix_time", p.stderr)
        with open(self.path("short.csv"), "w") as f:
            f.write("-1,1700000000\n-1,1700003600\n")
        p = run("--trace", self.path("short.csv"), "--history-days", "1", expect=1)
        self.assertIn("no more than --history-days 1", p.stderr)
        p = run("--trace", self.path("missing.csv"), expect=1)
        self.assertIn("cannot read trace", p.stderr)
        run("--history-days", "x", expect=2)


if __name__ == "__main__":
    unittest.main()
