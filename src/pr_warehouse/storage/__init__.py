"""Raw pages in object storage: deterministic keys, atomic writes, checkpoints."""

from pr_warehouse.storage.raw_store import PageRecord, RawStore, run_key_for

__all__ = ["PageRecord", "RawStore", "run_key_for"]
