"""How the parsers of network input scale: 6 kB against 60 kB of each adversarial shape.

``python -m bench.bench_parsers``. Prints the best-of-five time per size and their ratio: about
10 is linear, about 100 quadratic. No network, a few seconds.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``auditapp`` importable from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from auditapp.lab.parser_shapes import SHAPES, best_of, quiet


def run() -> dict[str, float]:
    """``{shape: ratio}``; also prints the table."""
    ratios = {}
    print(f"{'shape':<24} {'6 kB':>10} {'60 kB':>10} {'ratio':>7}")
    for name, (parse, make) in sorted(SHAPES.items()):
        fn = quiet(parse)
        small, big = best_of(fn, make(6_000)), best_of(fn, make(60_000))
        ratios[name] = big / small
        print(f"{name:<24} {small * 1000:>8.2f} ms {big * 1000:>8.2f} ms {big / small:>7.1f}")
    print(f"worst ratio {max(ratios.values()):.1f} (linear: about 10)")
    return ratios


if __name__ == "__main__":
    run()
