"""Time mAP@all and P@radius 2 for the CIFAR-10 protocol shape: 1,000 queries x
59,000 database codes of 64 bits, random codes and 10 classes.

  python benchmarks/metrics_speed.py
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from tfhash import retrieval  # noqa: E402


def main():
    rng = np.random.default_rng(0)
    queries = rng.integers(0, 256, size=(1000, 8), dtype=np.uint8)
    database = rng.integers(0, 256, size=(59000, 8), dtype=np.uint8)
    q_labels, db_labels = rng.integers(0, 10, 1000), rng.integers(0, 10, 59000)
    retrieval.mean_average_precision(queries[:10], database, q_labels[:10], db_labels)  # warm-up
    for name, fn in (
        ("mAP@all", lambda: retrieval.mean_average_precision(queries, database, q_labels, db_labels)),
        ("P@r2", lambda: retrieval.precision_at_radius(queries, database, q_labels, db_labels)),
    ):
        times = []
        for _ in range(3):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        print(f"{name}: best {min(times):.2f}s, median {sorted(times)[1]:.2f}s of 3 "
              f"(1000 x 59000, 64 bits, {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
