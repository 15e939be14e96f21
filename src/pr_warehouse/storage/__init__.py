"""Raw pages in object storage: deterministic keys, atomic writes, checkpoints."""

from pr_warehouse.storage.raw_store import (
    PageKind,
    PageRecord,
    RawStore,
    meta_key,
    org_folder,
    run_key_for,
    shared_folder,
)

__all__ = ["PageKind", "PageRecord", "RawStore", "meta_key", "org_folder", "run_key_for",
           "shared_folder"]
