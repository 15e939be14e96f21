"""dbt's command line with the garbage collector set for a batch job.

``python -m pr_warehouse.transform.dbt_cli ARGS`` is ``dbt ARGS`` (the same click command
the ``dbt`` script calls), with :data:`~pr_warehouse.constants.BATCH_GC_THRESHOLDS` set
before dbt is imported, and what its imports made (modules, classes, functions: they live
until the process exits) frozen out of the collector's rounds. On the demo warehouse a
models-only build takes 0.85x the CPU of the ``dbt`` script's, one with the data tests
0.89x (runs interleaved; bench/README.md).
"""

from __future__ import annotations

import gc

from pr_warehouse.constants import BATCH_GC_THRESHOLDS


def main() -> None:
    """Run dbt on ``sys.argv``; exits with dbt's own status."""
    gc.set_threshold(*BATCH_GC_THRESHOLDS)
    from dbt.cli.main import cli

    gc.freeze()
    cli(prog_name="dbt")


if __name__ == "__main__":
    main()
