"""The tamper-evident audit log: append hash-chained entries, verify the chain, read it."""

from cift.audit.chain import GENESIS_HASH, Actor, append, row_digest
from cift.audit.verify import ChainProblem, ChainReport, verify_chain

__all__ = [
    "GENESIS_HASH",
    "Actor",
    "ChainProblem",
    "ChainReport",
    "append",
    "row_digest",
    "verify_chain",
]
