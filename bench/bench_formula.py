"""A reward-like formula over N (default 100,000) records: the compiled evaluator
against a hand-written Python function computing the same thing with Decimal, in the
same run, and the reference evaluator (simpleeval).

    .venv/bin/python bench/bench_formula.py [--rows 100000] [--repeat 5] [--reference-rows 20000]

Prints the median time of each path, per record, and the ratios to the hand-written
function (the aim: compiled within 3x). The hand-written and compiled runs alternate,
so a busy machine slows both alike. Every path's results are checked to be equal, so
the figures compare the same work.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.formula import EvalContext, compile_formula, evaluate, parse  # noqa: E402

FORMULA = ('IF(AND(amount>=10000, level="VIP"), MIN(ROUND(amount*rate%, 2), cap), '
           'ROUND(amount*2%, 2)+bonus)')
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
TWO = Decimal(2)


def hand_written(row: dict) -> Decimal:
    """The formula as a programmer would write it for these (clean, typed) records."""
    amount = row["amount"]
    if amount >= 10000 and row["level"].casefold() == "vip":
        return min((amount * row["rate"] / HUNDRED).quantize(CENT, ROUND_HALF_UP), row["cap"])
    return (amount * TWO / HUNDRED).quantize(CENT, ROUND_HALF_UP) + row["bonus"]


def make_rows(count: int, seed: int = 7) -> list[dict]:
    rnd = random.Random(seed)
    levels = ["VIP", "vip", "普通", "金牌", "VIP"]
    return [{
        "amount": Decimal(rnd.randrange(10_000, 5_000_000)) / 100,
        "level": rnd.choice(levels),
        "rate": Decimal(rnd.randrange(10, 100)) / 10,
        "cap": Decimal(rnd.randrange(500, 3_000)),
        "bonus": Decimal(rnd.randrange(0, 20_000)) / 100,
    } for _ in range(count)]


def timed(func) -> tuple[float, object]:
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def interleaved(first, second, repeat: int) -> tuple[list[float], list[float], object, object]:
    """Run the two alternately `repeat` times (after a warm-up of each), so both see the
    same machine load; their times, and each one's last result."""
    first(), second()
    first_times, second_times = [], []
    for _ in range(repeat):
        elapsed, first_result = timed(first)
        first_times.append(elapsed)
        elapsed, second_result = timed(second)
        second_times.append(elapsed)
    return first_times, second_times, first_result, second_result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reference-rows", type=int, default=20_000,
                        help="rows for the (slow) reference evaluator; its time is per record")
    args = parser.parse_args()

    rows = make_rows(args.rows)
    formula = parse(FORMULA)
    compiled = compile_formula(formula)
    ctx = EvalContext()

    hand_times, compiled_times, expected, got = interleaved(
        lambda: [hand_written(row) for row in rows], lambda: compiled.many(rows, ctx), args.repeat)
    if got != expected:
        raise SystemExit("compiled results differ from the hand-written function")
    hand_time, compiled_time = statistics.median(hand_times), statistics.median(compiled_times)
    ratio = statistics.median(c / h for c, h in zip(compiled_times, hand_times))
    subset = rows[:args.reference_rows]
    reference_time, by_reference = timed(lambda: [evaluate(formula, row, ctx) for row in subset])
    if by_reference != expected[:len(subset)]:
        raise SystemExit("reference results differ from the hand-written function")
    reference_per_row = reference_time / len(subset)

    print(f"formula: {FORMULA}")
    print(f"records: {args.rows:,} (reference evaluator: {len(subset):,}); "
          f"medians of {args.repeat} runs, hand-written and compiled alternating")
    print(f"  hand-written Python  {hand_time * 1000:9.1f} ms   {hand_time / args.rows * 1e6:6.2f} µs/record")
    print(f"  compiled formula     {compiled_time * 1000:9.1f} ms   "
          f"{compiled_time / args.rows * 1e6:6.2f} µs/record   "
          f"ratio {ratio:5.2f}x (aim <= 3x; median of the paired runs' ratios)")
    print(f"  reference evaluator  {reference_per_row * args.rows * 1000:9.1f} ms*  "
          f"{reference_per_row * 1e6:6.2f} µs/record   "
          f"ratio {reference_per_row * args.rows / hand_time:5.1f}x")
    print("  * per-record time of the reference subset, times the record count")


if __name__ == "__main__":
    main()
