"""Error codes are stable and distinct; ids are well-formed and time-ordered."""

from __future__ import annotations

import time
import uuid

from hypothesis import given
from hypothesis import strategies as st

from cift.core.errors import ERROR_TYPES, CiftError
from cift.core.ids import accept_request_id, uuid7


def test_error_codes_are_unique_and_statuses_are_http_errors() -> None:
    codes = [cls.code for cls in ERROR_TYPES]
    assert len(codes) == len(set(codes))
    assert all(400 <= cls.http_status < 600 for cls in ERROR_TYPES)
    assert all(cls.exit_code != 0 for cls in ERROR_TYPES)


def test_every_error_subclass_is_listed() -> None:
    def subclasses(cls: type[CiftError]) -> set[type[CiftError]]:
        found = set(cls.__subclasses__())
        return found.union(*(subclasses(sub) for sub in found))

    assert subclasses(CiftError) | {CiftError} == set(ERROR_TYPES)


def test_uuid7_layout_and_order() -> None:
    first = uuid7()
    time.sleep(0.002)
    second = uuid7()
    assert first.version == 7
    assert first.variant == uuid.RFC_4122
    assert first < second
    millis = first.int >> 80
    assert abs(millis - time.time_ns() // 1_000_000) < 5_000


def test_request_id_from_client_is_kept_when_safe() -> None:
    assert accept_request_id("abc-123_X.y:z") == "abc-123_X.y:z"


@given(st.text())
def test_request_id_is_always_safe_to_log(candidate: str) -> None:
    rid = accept_request_id(candidate)
    assert 1 <= len(rid) <= 128
    assert all(c.isascii() and (c.isalnum() or c in "._:-") for c in rid)
