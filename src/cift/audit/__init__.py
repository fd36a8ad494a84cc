"""The tamper-evident audit log: append hash-chained entries, verify the chain, read it."""

from cift.audit.chain import GENESIS_HASH, Actor, append, row_digest
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
    "row_digest",
    "verify_chain",
]
