"""OATH benchmarks: the CSV import (time and peak memory) and the drift search (vs a naive pyotp loop).

    .venv/bin/python bench/oath.py [--rows 100000]

Not part of `make test`. Peak memory is traced with tracemalloc during the import; it should stay flat as
the file grows (the import streams). The drift search is timed against the obvious alternative run in the
same process: pyotp's TOTP.at() for each step of the window.
"""

import argparse
import csv
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyotp  # noqa: E402

from idp import create_app  # noqa: E402
from idp.extensions import db  # noqa: E402
from idp.methods.oath import importer, totp  # noqa: E402


def make_csv(path: Path, rows: int) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(importer.HEADER + ["hash function"])
        for n in range(rows):
            writer.writerow(
                [
                    "",
                    f"SN{n:08d}",
                    pyotp.random_base32(32),
                    60 if n % 2 else 30,
                    "Contoso",
                    "K1",
                    "sha256" if n % 3 else "sha1",
                ]
            )


def bench_import(rows: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="idp-bench-"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'bench.db'}",
            "SECRET_KEY": "bench",
            "IDP_ENCRYPTION_KEYS": "k1:" + "B" * 43 + "=",
        }
    )
    with app.app_context():
        db.create_all()
        from idp.directory import service as directory

        tenant = directory.create_tenant("Bench", ["bench.test"])
        db.session.commit()
        path = work / "tokens.csv"
        make_csv(path, rows)
        tracemalloc.start()
        started = time.perf_counter()
        job = importer.start(tenant.id, str(path), None, run_inline=True)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        job = db.session.get(type(job), job.id)
        return {
            "rows": rows,
            "seconds": elapsed,
            "rows_per_second": rows / elapsed,
            "peak_mib": peak / 2**20,
            "imported": job.imported_rows,
            "failed": job.failed_rows,
        }


def bench_drift(repeats: int = 20) -> dict:
    secret = pyotp.random_base32(32)
    radius = totp.activation_radius(60)  # the widest window: ±2 days at 60 s
    center = 30_000_000
    searcher = totp.Searcher(secret, "hmacsha256")
    window = {searcher.code(step) for step in range(center - radius, center + radius + 1)}
    absent = f"{next(n for n in range(10**6) if n not in window):06d}"  # worst case: every step is computed
    started = time.perf_counter()
    for _ in range(repeats):
        assert searcher.find(absent, center, radius) is None
    ours = (time.perf_counter() - started) / repeats
    reference = pyotp.TOTP(secret, digest=__import__("hashlib").sha256, interval=60)
    started = time.perf_counter()
    for _ in range(max(1, repeats // 4)):
        for step in range(center - radius, center + radius + 1):
            reference.at(step * 60) == absent  # noqa: B015 (the naive loop being measured)
    naive = (time.perf_counter() - started) / max(1, repeats // 4)
    return {"steps": 2 * radius + 1, "ours_ms": ours * 1000, "naive_pyotp_ms": naive * 1000, "speedup": naive / ours}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    drift = bench_drift()
    print(
        f"drift search over {drift['steps']} steps (±2 days at 60 s, worst case): {drift['ours_ms']:.1f} ms; "
        f"naive pyotp loop {drift['naive_pyotp_ms']:.1f} ms; ratio naive/ours {drift['speedup']:.1f}x"
    )
    small = bench_import(max(1, args.rows // 10))
    large = bench_import(args.rows)
    for result in (small, large):
        print(
            f"CSV import of {result['rows']:,} rows: {result['seconds']:.1f} s ({result['rows_per_second']:,.0f} rows/s), "
            f"peak traced memory {result['peak_mib']:.1f} MiB, imported {result['imported']:,}, failed {result['failed']}"
        )
    print(
        f"memory growth {large['peak_mib'] / small['peak_mib']:.2f}x for {large['rows'] / small['rows']:.0f}x the rows"
    )


if __name__ == "__main__":
    main()
