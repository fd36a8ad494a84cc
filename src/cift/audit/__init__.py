"""The tamper-evident audit log: append hash-chained entries, verify the chain, read it."""

from cift.audit.chain import GENESIS_HASH, Actor, append, row_digest
from cift.audit.read import newest_entries
from cift.audit.requests import CURRENT, EntryFields, RequestEntry, bookkeeping
from cift.audit.verify import ChainProblem, ChainReport, verify_chain

__all__ = [
    "CURRENT",
    "GENESIS_HASH",
    "Actor",
    "ChainProblem",
    "ChainReport",
    "EntryFields",
    "RequestEntry",
    "append",
    "bookkeeping",
    "newest_entries",
    "row_digest",
    "verify_chain",
]
