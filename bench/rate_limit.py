"""The customer pages' rate limiter: cost of one check and memory as distinct clients pile up.

    python bench/rate_limit.py [--clients 200000] [--max-clients 50000]

Prints figures; exits 0. The limiter remembers at most --max-clients addresses, so the
per-check cost and the table size stay flat however many clients arrive.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

from starlette.responses import Response

from handlers.web.security import RateLimit


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=200_000)
    parser.add_argument("--max-clients", type=int, default=50_000)
    args = parser.parse_args()
    limiter = RateLimit(Response("ok"), limit=60, clock=lambda: 1.0, max_clients=args.max_clients)
    tracemalloc.start()
    step = max(1, args.clients // 4)
    for start in range(0, args.clients, step):
        began = time.perf_counter()
        for n in range(start, start + step):
            limiter._hit(f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}", 1.0)
        each = (time.perf_counter() - began) / step * 1e6
        size, _peak = tracemalloc.get_traced_memory()
        print(
            f"after {start + step:>8} clients: {each:5.2f} µs a check, "
            f"{limiter.remembered} remembered, {size / 1e6:.1f} MB traced"
        )


if __name__ == "__main__":
    main()
