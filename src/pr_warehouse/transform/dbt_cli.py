"""dbt's command line with the garbage collector set for a batch job.

``python -m pr_warehouse.transform.dbt_cli ARGS`` is ``dbt ARGS`` (the same click command
the ``dbt`` script calls), with :data:`~pr_warehouse.constants.BATCH_GC_THRESHOLDS` set
before dbt is imported: a models-only build of the demo world takes 0.87x the CPU of the
``dbt`` script's, one with the data tests 0.96x (runs interleaved; bench/README.md).
"""

from __future__ import annotations

import gc

from pr_warehouse.constants import BATCH_GC_THRESHOLDS


def main() -> None:
    """Run dbt on ``sys.argv``; exits with dbt's own status."""
    gc.set_threshold(*BATCH_GC_THRESHOLDS)
    from dbt.cli.main import cli

    cli(prog_name="dbt")


if __name__ == "__main__":
    main()
