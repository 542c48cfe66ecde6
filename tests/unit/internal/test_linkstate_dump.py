"""linkstate's dump: an interrupted dump is made again, a few times at most."""

from __future__ import annotations

from typing import Any

from os_vif.internal import linkstate


def test_an_interrupted_dump_is_made_again(monkeypatch) -> None:
    answers = [([b"partial"], False), ([b"whole"], True)]
    monkeypatch.setattr(linkstate, "_dump_once", lambda m: answers.pop(0))
    assert linkstate._dump_messages(None) == [b"whole"]
    assert answers == []


def test_a_dump_interrupted_every_time_is_taken_at_last(monkeypatch) -> None:
    calls: list[Any] = []

    def always_interrupted(master: Any) -> tuple[list[bytes], bool]:
        calls.append(master)
        return [b"attempt%d" % len(calls)], False

    monkeypatch.setattr(linkstate, "_dump_once", always_interrupted)
    found = linkstate._dump_messages(7)
    assert len(calls) == linkstate._DUMP_ATTEMPTS
    assert found == [b"attempt%d" % linkstate._DUMP_ATTEMPTS]
    assert calls == [7] * linkstate._DUMP_ATTEMPTS
