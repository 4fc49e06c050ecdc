"""The kill -9 harness: govwatchd run against the VK emulator while posts keep appearing and a
flaky exec sink delivers them; the daemon is killed with SIGKILL at random moments (during
sweeps, during deliveries, during reloads) and restarted, N times. Then one last clean run drains
the outbox and the books are checked:

  * every post added after first sight was delivered at least once (nothing lost);
  * every duplicate is explained by a kill: the extra copy was written by a daemon instance that
    was then SIGKILLed, within a short window before that kill (a send in flight, accepted by the
    sink, not yet recorded in the store) or after it (an orphaned hook finishing);
  * PRAGMA integrity_check says ok, and the final instance stops cleanly (SIGTERM, exit 0,
    sanitizer-clean).

Shared by tests/integration/test_crash.py (short form, N >= 20) and bench/crash-long.sh (long
form, N = 100). Standard library only, /usr/bin/python3.

The flaky sink is an exec hook (write_hook below): it appends one JSON line per accepted
notification to a file, with fsync, and exits 75 ("try later") part of the time or sleeps first.
The daemon gets GOVWATCH_TEST_BACKOFF_SCALE so that its 30 s minimum backoff becomes about 1 s.
"""
import json
import os
import random
import signal
import sqlite3
import subprocess
import threading
import time

import gwtest

HOOK = r'''#!/usr/bin/python3
# A flaky delivery target for govwatch tests: one JSON line per accepted notification.
import json, os, random, sys, time

out, fail_rate, sleep_max = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
events = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] != "-" else None
daemon = os.getppid()  # read first: it changes if the daemon is killed while we run
n = json.loads(sys.stdin.readline())


def append(path, record):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (json.dumps(record, ensure_ascii=False) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


base = {"url": n.get("url"), "kind": n.get("kind"), "daemon": daemon, "pid": os.getpid()}
if events:
    append(events, dict(base, ev="start", t=time.time()))
if random.random() < fail_rate:
    if events:
        append(events, dict(base, ev="tempfail", t=time.time()))
    sys.exit(75)
if sleep_max < 0:  # a fixed delay: every send takes this long
    time.sleep(-sleep_max)
elif sleep_max > 0 and random.random() < 0.3:
    time.sleep(random.uniform(0, sleep_max))
append(out, dict(base, t=time.time(), text=n.get("text", "")[:80]))
if events:
    append(events, dict(base, ev="end", t=time.time()))
sys.exit(0)
'''

# a copy written this long before its instance was killed still counts as "in flight at the
# kill": the daemon had not yet reaped the hook and committed (generous for ASan builds)
IN_FLIGHT_WINDOW = 2.0


def log_path(workdir, name):
    """Where a daemon's stderr goes: $GOVWATCH_TEST_LOG_DIR (scanned for secrets by
    test_logging.py) when set, else workdir."""
    d = os.environ.get("GOVWATCH_TEST_LOG_DIR") or workdir
    os.makedirs(d, exist_ok=True)
    return os.path.join(d, name)


def write_hook(workdir):
    path = os.path.join(workdir, "flaky-hook.py")
    with open(path, "w") as f:
        f.write(HOOK)
    os.chmod(path, 0o755)
    return path


def hook_sink(workdir, out, fail_rate=0.0, sleep_max=0.0, events="-", concurrency=2,
              timeout="10s", name="hook"):
    """YAML for an exec sink running the flaky hook."""
    hook = write_hook(workdir)
    cmd = json.dumps(["/usr/bin/python3", hook, out, str(fail_rate), str(sleep_max), events])
    return ("  %s: {type: exec, command: %s, concurrency: %d, timeout: %s}\n"
            % (name, cmd, concurrency, timeout))


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass  # a line cut by a kill: the hook fsyncs whole lines, but be lenient
    return out


def db_query(state_dir, sql, args=()):
    """A read-only query on the daemon's store, retried while it is busy."""
    path = os.path.join(state_dir, "govwatch.db")
    for _ in range(50):
        try:
            db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=5)
            try:
                return db.execute(sql, args).fetchall()
            finally:
                db.close()
        except sqlite3.OperationalError:
            time.sleep(0.1)
    raise RuntimeError("store stayed busy: " + sql)


def wall_seen(state_dir, owner_id=-100001):
    """Whether the daemon has taken its first sight of the wall (its posts until then are old)."""
    if not os.path.exists(os.path.join(state_dir, "govwatch.db")):
        return False
    rows = db_query(state_dir, "SELECT first_seen FROM communities WHERE owner_id = ?",
                    (owner_id,))
    return bool(rows and rows[0][0] > 0)


def wait_first_sight(daemon, state_dir, owner_id=-100001, timeout=60):
    """Waits (a gwtest.Daemon's wait_for) until the daemon has seen the wall once: a post
    added after that is new."""
    daemon.wait_for(lambda: wall_seen(state_dir, owner_id), timeout, "first sight of the wall")


def start_daemon(workdir, config, stderr_path):
    d = gwtest.Daemon(workdir, config, stdout=False, stderr_path=stderr_path,
                      env={"GOVWATCH_TEST_BACKOFF_SCALE": "0.02"})
    instances.append(d.pid)
    return d


COMMUNITIES = [-100001, -100002, -100003]
instances = []  # pids of every govwatchd this process started


def run(n_kills, workdir, seed=None, log=print, poll_interval="2s", post_every=(0.2, 0.7),
        alive=(0.3, 3.0)):
    """Runs the harness; returns a dict of figures (see the module docstring for the checks;
    'problems' lists every failed one, empty when all passed)."""
    seed = seed if seed is not None else random.randrange(1 << 30)
    rnd = random.Random(seed)
    started = time.time()
    emu = gwtest.Emulator(workdir)
    out = os.path.join(workdir, "delivered.jsonl")
    events = os.path.join(workdir, "hook-events.jsonl")
    state_dir = os.path.join(workdir, "state")
    body = ("poll_interval: %s\n"
            "expire: 1d\n"
            "sinks:\n" % poll_interval
            + hook_sink(workdir, out, fail_rate=0.2, sleep_max=1.0, events=events) +
            "watch:\n"
            "  - topic: Краш-тест\n"
            "    communities: [%s]\n"
            "    categories: all\n"
            "    uncategorized: true\n"
            "    sinks: [hook]\n" % ", ".join(str(c) for c in COMMUNITIES))
    # every wall due every 1-2 s: a restarted instance polls what its predecessor's saved
    # schedule says is due, and the walls must keep coming due for the posts to be found
    config = gwtest.write_config(workdir, emu, body, fast_polling=True)
    stderr_path = log_path(workdir, "crash-%d.log" % seed)
    expected = []
    kills = []  # {pid, t, mode, in_flight}
    stop_posting = threading.Event()
    figures = {"seed": seed, "kills": 0, "problems": []}
    instance = None

    def poster():
        i = 0
        while not stop_posting.is_set():
            owner = rnd.choice(COMMUNITIES)
            i += 1
            try:
                pid = emu.add_post(owner, "Краш-тест: объявление №%d о приёме граждан" % i)
                expected.append("https://vk.com/wall%d_%d" % (owner, pid))
            except OSError as e:  # the emulator is ours; this would be a harness bug
                log("add_post failed: %s" % e)
            stop_posting.wait(rnd.uniform(*post_every))

    def first_sight():
        if not os.path.exists(os.path.join(state_dir, "govwatch.db")):
            return False
        try:
            return db_query(state_dir, "SELECT count(*) FROM communities "
                                       "WHERE first_seen > 0")[0][0] == len(COMMUNITIES)
        except (RuntimeError, sqlite3.DatabaseError):
            return False

    try:
        # first sight of every wall, before any post counts as expected
        instance = start_daemon(workdir, config, stderr_path)
        instance.wait_for(first_sight, 60, "first sight of every wall", interval=0.1)
        thread = threading.Thread(target=poster, daemon=True)
        thread.start()

        modes = {"random": 0, "sweep": 0, "reload": 0}
        for k in range(n_kills):
            if instance is None:
                mode = rnd.choices(["random", "sweep", "reload"], [5, 2, 3])[0]
                if mode == "sweep":
                    # this instance's first VK request hangs: the kill lands inside its sweep
                    requests = emu.control("stats")["requests"]
                    emu.control("fault", {"kind": "delay", "delay": 1.5, "count": 1})
                instance = start_daemon(workdir, config, stderr_path)
            else:
                mode = "random"  # the first-sight instance, already running
            if mode == "sweep":
                # it is sent when the first wall falls due, not necessarily at start: the
                # emulator counts it before it starts to hang
                try:
                    gwtest.wait_for(lambda: emu.control("stats")["requests"] != requests, 10,
                                    "the hanging request", interval=0.02)
                except AssertionError:
                    pass  # then the kill lands elsewhere
                time.sleep(rnd.uniform(0.1, 1.1))
            elif mode == "reload":
                time.sleep(rnd.uniform(0.3, 2.5))
                instance.send_signal(signal.SIGHUP)
                time.sleep(rnd.uniform(0.0, 0.25))
            else:
                time.sleep(rnd.uniform(*alive))
            t = time.time()
            instance.kill()
            ev = read_jsonl(events)
            ended = {e["pid"] for e in ev if e["ev"] in ("end", "tempfail")}
            in_flight = sum(1 for e in ev if e["ev"] == "start" and e["daemon"] == instance.pid
                            and e["pid"] not in ended)
            kills.append({"pid": instance.pid, "t": t, "mode": mode, "in_flight": in_flight})
            modes[mode] += 1
            with open(stderr_path, "a") as f:
                f.write("=== harness: SIGKILL %d (%s, %d hooks in flight) ===\n"
                        % (instance.pid, mode, in_flight))
            instance = None
        stop_posting.set()
        thread.join()

        # the last run: clean, drains everything, stops on SIGTERM
        # appended to: a rerun with this seed in a shared $GOVWATCH_TEST_LOG_DIR finds its own
        # (stderr() is what this instance wrote)
        instance = start_daemon(workdir, config, log_path(workdir, "crash-%d-final.log" % seed))
        # the clean stop checked below is a running daemon's: a SIGTERM before its main() runs
        # (the loader, the sanitizer's start-up) kills any process. With every post delivered
        # already, the wait below would end at once.
        instance.wait_log(" running: ", 60, "the final govwatchd's start")
        want = set(expected)

        def drained():
            got = {d["url"] for d in read_jsonl(out) if d.get("kind") == "post"}
            return want <= got and not db_query(state_dir, "SELECT count(*) FROM outbox "
                                                           "WHERE state = 'pending'")[0][0]
        try:
            instance.wait_for(drained, 90, "every post delivered", interval=0.3)
        except AssertionError:
            pass  # the books below say what is missing
        rc = instance.stop()
        final_log = instance.stderr()
        instance = None
        if rc != 0:
            figures["problems"].append("final SIGTERM exit status %d" % rc)
        if gwtest.sanitizer_report(final_log):
            figures["problems"].append("sanitizer report in the final run:\n" + final_log)

        # the books
        deliveries = [d for d in read_jsonl(out) if d.get("kind") == "post"]
        by_url = {}
        for d in deliveries:
            by_url.setdefault(d["url"], []).append(d)
        missing = sorted(want - set(by_url))
        unexpected = sorted(set(by_url) - want)
        killed = {k["pid"]: k["t"] for k in kills}
        daemons = set(killed) | set(instances)
        dups = justified = 0
        unjustified = []

        def in_flight_at_a_kill(c):
            kt = killed.get(c["daemon"])
            if kt is not None:
                # after its daemon's kill (an orphaned hook), or so shortly before it that the
                # daemon had not yet reaped the hook and committed
                return c["t"] >= kt - IN_FLIGHT_WINDOW
            # orphaned before it even read its parent's pid (ppid 1): its daemon was killed
            # while it started, and it finished shortly after that kill
            return c["daemon"] not in daemons and any(
                0 <= c["t"] - k["t"] <= IN_FLIGHT_WINDOW + 1.0 for k in kills)

        for url, copies in by_url.items():
            extra = len(copies) - 1
            if extra <= 0:
                continue
            dups += extra
            # each extra copy must be matched by a copy that a kill left unrecorded
            explained = min(extra, sum(1 for c in copies if in_flight_at_a_kill(c)))
            justified += explained
            if explained < extra:
                unjustified.append({"url": url, "copies": [
                    dict(c, killed_at=killed.get(c["daemon"])) for c in copies]})
        integrity = db_query(state_dir, "PRAGMA integrity_check")[0][0]
        states = dict(db_query(state_dir, "SELECT state, count(*) FROM outbox GROUP BY state"))
        tempfails = sum(1 for e in read_jsonl(events) if e["ev"] == "tempfail")
        figures.update({
            "kills": len(kills),
            "kills_random": modes["random"],
            "kills_in_sweep": modes["sweep"],
            "kills_in_reload": modes["reload"],
            "kills_with_sends_in_flight": sum(1 for k in kills if k["in_flight"] > 0),
            "expected": len(want),
            "delivered_unique": len(set(by_url) & want),
            "deliveries": len(deliveries),
            "missing": len(missing),
            "duplicates": dups,
            "duplicates_explained_by_kill": justified,
            "duplicates_unexplained": dups - justified,
            "tempfail_retries": tempfails,
            "outbox_states": states,
            "integrity_check": integrity,
            "seconds": round(time.time() - started, 1),
        })
        if missing:
            figures["problems"].append("lost notifications: %s" % missing[:10])
        if unexpected:
            figures["problems"].append("delivered but never added: %s" % unexpected[:10])
        if unjustified:
            figures["problems"].append("duplicates not explained by a kill: %s" % unjustified[:5])
        if integrity != "ok":
            figures["problems"].append("integrity_check: %s" % integrity)
        if states.get("pending") or states.get("dead"):
            figures["problems"].append("outbox not drained: %s" % states)
        return figures
    finally:
        stop_posting.set()
        if instance is not None:
            instance.kill()
        emu.stop()


def main():
    import argparse
    import tempfile
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=100, help="SIGKILLs (default 100)")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    workdir = tempfile.mkdtemp(prefix="govwatch-crash-")
    try:
        fig = run(a.n, workdir, seed=a.seed, log=lambda s: print(s, flush=True))
    finally:
        if not a.keep:
            subprocess.run(["rm", "-rf", workdir])
        else:
            print("work directory:", workdir)
    for k, v in fig.items():
        if k != "problems":
            print("%-30s %s" % (k, v))
    for p in fig["problems"]:
        print("PROBLEM:", p)
    return 1 if fig["problems"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
