"""bench-schedsim: the simulation's accounting and its trace files (not its figures).

The benchmark's figures belong in the README; what is tested here is that it counts right: every
post found, the quota never exceeded, round robin's latency as its definition gives it, a trace
written by --write-trace replayed by --trace, and bad trace files refused with their line; that
every trace family runs and is reproducible from its seed; that a warm-up is not measured; and
that --table tuning never shows a held-out family (the scheduler is tuned on that table).

Held-out families' figures are never put in a failure message: whoever tunes the scheduler reads
these failures.
"""
import os
import re
import runpy
import subprocess
import tempfile
import unittest

SCHEDSIM = os.environ.get("GOVWATCH_SCHEDSIM", "build/bench-schedsim")
ROW = re.compile(r"^(round robin|govwatch \(online\)|oracle \([^)]*\)|flat oracle \([^)]*\))"
                 r"\s+(.*)$")
T0 = 1709499600  # the generated traces' t0: Monday 2024-03-04 00:00 Moscow
SMALL = ("--communities", "30", "--days", "2", "--quota", "400")


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
            "max_day": int(f[4]), "max24": int(f[5]), "quota": f[6], "miss": int(f[10]),
            "max_rr_interval": float(f[11]), "cpu_day": None if f[12] == "-" else float(f[12])}
    return found


def families():
    """{name: set} from --list-families: "tuning", "heldout", "fresh", "blind", "sealed" or
    "vault"."""
    found = {}
    for line in run("--list-families").stdout.splitlines():
        name, kind = line.split()[:2]
        found[name] = kind
    return found


def wall_gets(out):
    """{"round robin": n, "online": n, "oracle": n}: wall.get made from the daemon's start on."""
    m = re.search(r"^wall.get over [\d.]+ simulated days: (\d+) round robin, (\d+) online, "
                  r"(\d+) oracle$", out, re.M)
    assert m, out
    return dict(zip(("round robin", "online", "oracle"), map(int, m.groups())))


def measured_posts(out):
    m = re.search(r"(\d+) posts\n", out)
    assert m, out
    return int(m.group(1))


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
        self.assertEqual(set(r), {"round", "govwatch", "oracle", "flat"}, out)
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

    def test_the_second_day_is_accounted_apart(self):
        # The same hourly round robin over two days: posts waiting 59.98 and 49.98 min on the
        # first day, 9.98 min on the second. "From the second measured day on" holds only the
        # last, so a cold start can be told from the first day it must learn in.
        start = 1_700_000_000
        offsets = [1, 1 + 600, 86400 + 1 + 3000]
        with open(self.path("two.csv"), "w") as f:
            f.write("owner_id,unix_time\n")
            for off in offsets:
                f.write("-1,%d\n" % (start + off))
        out = run("--trace", self.path("two.csv"), "--quota", "24", "--history-days", "0").stdout
        m = re.search(r"^from the second measured day on, (\d+) posts: mean ([\d.]+) / [\d.]+ / "
                      r"[\d.]+ min, p95 ([\d.]+) / [\d.]+ / [\d.]+ min", out, re.M)
        self.assertIsNotNone(m, out)
        self.assertEqual(int(m.group(1)), 1, out)
        self.assertAlmostEqual(float(m.group(2)), (3600 - 3001) / 60, delta=0.06, msg=out)
        self.assertAlmostEqual(float(m.group(3)), (3600 - 3001) / 60, delta=0.06, msg=out)
        waits = [(3600 - off % 86400) / 60 for off in offsets]
        self.assertAlmostEqual(rows(out)["round"]["mean"], sum(waits) / 3, delta=0.06, msg=out)

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

    def test_every_family_runs_within_the_quota_and_finds_every_post(self):
        fams = families()
        self.assertIn("lognormal", fams)
        self.assertEqual(fams["lognormal"], "tuning")
        self.assertTrue(set(fams.values()) <= {"tuning", "heldout", "fresh", "blind", "sealed",
                                               "vault"}, fams)
        for name, kind in fams.items():
            with self.subTest(family=name):
                out = run("--family", name, *SMALL, "--history-days", "1",
                          "--warmup-days", "1").stdout
                shown = out if kind == "tuning" else "(a held-out family's figures)"
                self.assertIn("generated: family %s," % name, out, shown)
                self.assertGreater(measured_posts(out), 0, shown)
                r = rows(out)
                self.assertEqual(set(r), {"round", "govwatch", "oracle", "flat"}, shown)
                for poller, row in r.items():
                    self.assertEqual((row["quota"], row["miss"]), ("ok", 0), (name, poller))
                    self.assertLessEqual(row["max24"], 400, (name, poller))
                # round robin waits at most its own interval
                self.assertLessEqual(r["round"]["max_rr_interval"], 1.0, (name, shown))
                self.assertIsNone(r["round"]["cpu_day"])
                self.assertGreaterEqual(r["govwatch"]["cpu_day"], 0)

    def test_a_seed_gives_the_same_trace_and_another_seed_another(self):
        for name in families():
            with self.subTest(family=name):
                paths = [self.path("%s-%d.csv" % (name, k)) for k in range(3)]
                for path, seed in zip(paths, ("7", "7", "8")):
                    run("--family", name, "--seed", seed, "--communities", "30", "--days", "1",
                        "--quota", "300", "--history-days", "1", "--write-trace", path)
                with open(paths[0]) as a, open(paths[1]) as b, open(paths[2]) as c:
                    first, again, other = a.read(), b.read(), c.read()
                self.assertGreater(first.count("\n"), 2, name)
                self.assertEqual(first, again, "%s: seed 7 wrote two different traces" % name)
                self.assertNotEqual(first, other, "%s: seeds 7 and 8 wrote one trace" % name)

    def test_a_warm_up_is_polled_but_not_measured(self):
        # A cold start and a day of warm-up replay the same trace (it begins a week before t0
        # either way) and measure the same posts: those from t0 on, not the warm-up's.
        cold_csv, warm_csv = self.path("cold.csv"), self.path("warm.csv")
        args = ("--communities", "40", "--days", "2", "--quota", "400", "--history-days", "0")
        cold = run(*args, "--write-trace", cold_csv).stdout
        warm = run(*args, "--warmup-days", "1", "--write-trace", warm_csv).stdout
        with open(cold_csv) as a, open(warm_csv) as b:
            trace = a.read()
            self.assertEqual(trace, b.read())
        times = [int(line.split(",")[1]) for line in trace.splitlines()[1:]]
        from_t0 = sum(t >= T0 for t in times)
        self.assertGreater(sum(T0 - 86400 <= t < T0 for t in times), 0)  # posts in the warm-up
        self.assertEqual(measured_posts(cold), from_t0, cold)
        self.assertEqual(measured_posts(warm), from_t0, warm)
        self.assertIn("after 0 days of history and 1 of warm-up", warm)
        rc, rw = rows(cold), rows(warm)
        for poller in rc:
            self.assertEqual((rw[poller]["quota"], rw[poller]["miss"]), ("ok", 0), (poller, warm))
        # Round robin has no state: 40 walls at 400 a day are polled every 144 min, 10 times a
        # day, so starting a day early it waits as long for every measured post. The scheduler
        # has learned something in the warm-up day, so it polls otherwise.
        for key in ("mean", "p95", "max"):
            self.assertEqual(rc["round"][key], rw["round"][key], (key, cold, warm))
        self.assertNotEqual(rc["govwatch"], rw["govwatch"], (cold, warm))
        # and the warm-up day was polled, within the day's quota
        polls_cold, polls_warm = wall_gets(cold), wall_gets(warm)
        self.assertEqual(polls_warm["round robin"] - polls_cold["round robin"], 400)
        for poller in ("online", "oracle"):
            self.assertGreater(polls_warm[poller] - polls_cold[poller], 300, (poller, warm))
            self.assertLessEqual(polls_warm[poller] - polls_cold[poller], 400, (poller, warm))

    def test_the_tuning_table_shows_no_held_out_family(self):
        fams = families()
        tuning = {n for n, k in fams.items() if k == "tuning"}
        heldout = {n for n, k in fams.items() if k != "tuning"}
        out = run("--table", "tuning", "--communities", "30", "--days", "1", "--quota", "300",
                  "--warmup-days", "1", "--seed", "3").stdout
        for name in heldout:
            self.assertIsNone(re.search(r"\b%s\b" % re.escape(name), out),
                              "--table tuning names the held-out family %s" % name)
        self.assertIn("--table tuning: seed 3, 30 communities", out)
        lines = out.splitlines()
        header = [i for i, line in enumerate(lines) if line.startswith("| family |")]
        self.assertEqual(len(header), 1, out)
        cells = [[c.strip() for c in line.strip("|").split("|")]
                 for line in lines[header[0] + 2:] if line.startswith("|")]
        self.assertEqual(sorted((c[0], c[2]) for c in cells),
                         sorted((n, s) for n in tuning for s in ("cold", "first", "warm")), out)
        for c in cells:
            self.assertEqual(len(c), 11, c)
            self.assertEqual(c[1], "tuning", c)
            self.assertLessEqual(int(c[9]), 300, c)  # busiest 24 h within the quota
            for ratio in c[3:6]:
                self.assertGreater(float(ratio), 0, c)
            self.assertEqual(c[6], "-", c)  # one day measured: no second day
        self.assertRegex(out, r"\ntuning, seed 3: targets \(cold rows: .*\) (met|NOT met)")
        self.assertNotRegex(out, r"\n(heldout|fresh|blind|sealed|vault), seed")

    def test_table_rows_are_the_runs_their_start_names(self):
        # Each start of a table row is a single run on the same trace: cold with bare walls, first
        # with the lead days as the walls' past (an empty store; the first page shows their last
        # posts), warm after running through the lead days. Same trace, same measured posts.
        common = ("--communities", "30", "--days", "1", "--quota", "300", "--seed", "4")
        table = run("--table", "tuning", "--warmup-days", "2", *common).stdout
        self.assertIn("first: --history-days 2 (an empty store", table)
        cells = {}
        for line in table.splitlines():
            c = [x.strip() for x in line.strip("|").split("|")]
            if line.startswith("| lognormal |"):
                cells[c[2]] = c
        self.assertEqual(sorted(cells), ["cold", "first", "warm"], table)
        single = {
            "cold": ("--history-days", "0", "--warmup-days", "0"),
            "first": ("--history-days", "2", "--warmup-days", "0"),
            "warm": ("--history-days", "0", "--warmup-days", "2"),
        }
        for start, args in single.items():
            out = run("--family", "lognormal", *args, *common).stdout
            r = rows(out)
            self.assertEqual(measured_posts(out), int(cells[start][10]), (start, out))
            for key, col in (("mean", 3), ("p95", 4)):
                self.assertAlmostEqual(r["govwatch"][key] / r["round"][key],
                                       float(cells[start][col]), delta=0.0011,
                                       msg=(start, key, out, table))
        # the walls' past is what tells the first start from the cold one
        self.assertNotEqual(cells["cold"][3:5], cells["first"][3:5], table)

    def test_the_rates_bound_of_walls_alike_is_round_robin(self):
        # bench/schedsim-bound.py: ten walls posting once an hour each have one interval, the
        # budget's (quota less the 2 % reserve) share: 1/0.98 of round robin's, mean and p95 alike.
        bound = os.path.join(os.environ.get("GOVWATCH_SOURCE_DIR", "."), "bench",
                             "schedsim-bound.py")
        with open(self.path("alike.csv"), "w") as f:
            f.write("owner_id,unix_time\n")
            for wall in range(10):
                for hour in range(7 * 24):
                    f.write("-%d,%d\n" % (wall + 1, T0 + hour * 3600 + 60 * wall))
        p = subprocess.run(["/usr/bin/python3", bound, self.path("alike.csv"), "--communities",
                            "10", "--quota", "240"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        m = re.search(r"10 walls, 240 posts a day, Gini of the walls' rates ([\d.]+): mean "
                      r"([\d.]+), p95 ([\d.]+)", p.stdout)
        self.assertIsNotNone(m, p.stdout)
        self.assertEqual(float(m.group(1)), 0.0, p.stdout)
        self.assertAlmostEqual(float(m.group(2)), 1 / 0.98, delta=0.002, msg=p.stdout)
        self.assertAlmostEqual(float(m.group(3)), 1 / 0.98, delta=0.002, msg=p.stdout)
        # its rule is the scheduler's: the same constants as src/scheduler.c
        with open(os.path.join(os.path.dirname(os.path.dirname(bound)), "src",
                               "scheduler.c")) as f:
            source = f.read()
        mirror = runpy.run_path(bound, run_name="schedsim_bound")
        for script_name, c_name in (("DEADLINE", "DEADLINE_FACTOR"),
                                    ("LATE_WEIGHT", "LATE_WEIGHT"), ("BOUND", "BOUND_FACTOR")):
            m = re.search(r"^#define %s\s+([\d.]+)" % c_name, source, re.M)
            self.assertIsNotNone(m, c_name)
            self.assertEqual(mirror[script_name], float(m.group(1)), c_name)
        # a wall more than --communities says, or no post in the window, is refused
        p = subprocess.run(["/usr/bin/python3", bound, self.path("alike.csv"), "--communities",
                            "5"], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("more than --communities 5", p.stderr)
        p = subprocess.run(["/usr/bin/python3", bound, self.path("alike.csv"), "--t0", "1"],
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("no posts in the measured window", p.stderr)

    def test_bad_family_and_options_are_refused(self):
        p = run("--family", "no-such-family", expect=2)
        self.assertIn("unknown family no-such-family", p.stderr)
        self.assertEqual(p.stdout, "")
        tuning = [n for n, k in families().items() if k == "tuning" and n != "lognormal"]
        p = run("--family", tuning[0], "--rates", "pareto", expect=2)
        self.assertIn("lognormal only", p.stderr)
        run("--table", "everything", expect=2)
        run("--table", "tuning", "--family", "lognormal", expect=2)
        run("--table", expect=2)  # no default set: it could be the held-out one


if __name__ == "__main__":
    unittest.main()
