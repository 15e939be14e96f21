"""``make bench``: speed, API cost, load, transform and memory figures for pr-warehouse.

Run ``python -m bench`` (the full run, ~12-15 min on 2 cores) or ``python -m bench --quick``
(small sizes, ~2 min). Every section prints its figures; the final table is printed at the
end and written as JSON under ``bench/results/``. See ``bench/README.md`` for how to read
the numbers. Nothing here asserts on time: the benchmark reports, it does not judge.
"""
