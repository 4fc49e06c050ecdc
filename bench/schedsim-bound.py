#!/usr/bin/python3
"""What a scheduler that knew each wall's rate could win over round robin (issue 14).

Reads a trace written by `bench-schedsim --write-trace FILE --history-days 0` and, for the posts
of the measured window, polls every wall at a constant interval of its own, chosen from its true
mean rate over that window by the scheduler's rule in closed form: the square-root law with the
soft deadline (a post waiting past DEADLINE of round robin's interval costs LATE_WEIGHT more a
minute), no wall longer than BOUND × round robin's interval, the intervals filling the budget the
scheduler plans (quota less its 2 % reserve). A post then waits uniformly up to its wall's
interval. Prints the posts a day, the Gini coefficient of the walls' rates, and the mean and p95
wait as ratios to round robin at the full quota.

It knows no hours and no bursts, so it is neither an upper nor a lower bound of the learning
scheduler; it says how much of round robin's wait the walls' differences alone leave to win.

usage: bench/schedsim-bound.py TRACE.csv [--communities N] [--t0 UNIX] [--days N] [--quota Q]
(a trace file holds only the walls that posted: --communities counts the silent ones in)
"""
import argparse
import collections
import math
import sys

T0 = 1709499600  # bench-schedsim's generated traces: Monday 2024-03-04 00:00 Moscow
DEADLINE = 0.3     # src/scheduler.c DEADLINE_FACTOR
LATE_WEIGHT = 10.0  # src/scheduler.c LATE_WEIGHT
BOUND = 1.75        # src/scheduler.c BOUND_FACTOR
RESERVE = 0.02      # bench-schedsim's reserve: quota / 50


def rates(path, t0, days, walls):
    """Posts an hour of each wall over [t0, t0 + days); walls that never posted count as 0."""
    counts = collections.Counter()
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or line.startswith("owner_id"):
                continue
            owner, t = line.split(",")
            counts.setdefault(owner, 0)  # a wall that posted only outside the window counts too
            if t0 <= int(t) < t0 + days * 86400:
                counts[owner] += 1
    if len(counts) > walls:
        sys.exit("%s: %d walls, more than --communities %d" % (path, len(counts), walls))
    return [n / (days * 24) for n in counts.values()] + [0.0] * (walls - len(counts))


def interval(theta, lam, x, floor):
    """The rule's interval (hours) for a constant rate at cost θ: λτ²/2 = θ up to X, then
    λ(τ² + β(τ - X)²)/2 = θ; never beyond the floor."""
    if lam <= 0:
        return floor
    q, b = 2 * theta / lam, LATE_WEIGHT
    t = math.sqrt(q) if q <= x * x else (b * x + math.sqrt((1 + b) * q - b * x * x)) / (1 + b)
    return min(t, floor)


def p95(lam, T):
    """The wait below which 95 % of the posts are found, a post waiting U(0, T) on its wall."""
    total = sum(lam)
    lo, hi = 0.0, max(T)
    for _ in range(60):
        y = (lo + hi) / 2
        late = sum(l * max(0.0, 1 - y / t) for l, t in zip(lam, T)) / total
        lo, hi = (y, hi) if late > 0.05 else (lo, y)
    return hi


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trace")
    ap.add_argument("--communities", type=int, default=300)
    ap.add_argument("--t0", type=int, default=T0)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--quota", type=int, default=5000)
    a = ap.parse_args()

    lam = rates(a.trace, a.t0, a.days, a.communities)
    n = len(lam)
    if n == 0 or sum(lam) == 0:
        sys.exit("%s: no posts in the measured window" % a.trace)
    rr = n * 24 / a.quota  # round robin's interval, hours
    budget = a.quota * (1 - RESERVE) / 24  # the scheduler's polls an hour
    x, floor = DEADLINE * rr, BOUND * rr
    lo, hi = 1e-9, 1e4
    for _ in range(100):  # the θ whose intervals fill the budget
        theta = math.sqrt(lo * hi)
        if sum(1 / interval(theta, l, x, floor) for l in lam) > budget:
            lo = theta
        else:
            hi = theta
    T = [interval(hi, l, x, floor) for l in lam]
    mean = sum(l * t / 2 for l, t in zip(lam, T)) / sum(lam)
    s = sorted(lam)
    gini = sum((2 * i - n + 1) * v for i, v in enumerate(s)) / (n * sum(s))
    print("%d walls, %.0f posts a day, Gini of the walls' rates %.2f: mean %.3f, p95 %.3f of "
          "round robin's" % (n, sum(lam) * 24, gini, mean / (rr / 2), p95(lam, T) / (0.95 * rr)))


if __name__ == "__main__":
    main()
