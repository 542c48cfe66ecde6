"""The plan journal's files: private to the daemon's user, never followed.

A recovered journal is trusted (its undo runs without ownership checks),
so what others could write must never be read as one.
"""

from __future__ import annotations

import os
import stat

import pytest

from os_vif.internal.privileged import journal

PLAN = "ab" * 16


@pytest.fixture
def plans(monkeypatch, tmp_path):
    parent = tmp_path / "run-os-vif"
    monkeypatch.setattr(journal, "DIRECTORY", str(parent / "plans"))
    return parent


def _mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_made_private_whatever_the_umask(plans) -> None:
    old = os.umask(0)
    try:
        entry = journal.Journal(PLAN)
        entry.record(["delete_device", {"name": "tap0"}])
        assert _mode(plans) == 0o755
        assert _mode(plans / "plans") == 0o700
        assert _mode(entry.path) == 0o600
        assert journal.read(PLAN) == [["delete_device", {"name": "tap0"}]]
        entry.close()
    finally:
        os.umask(old)
    assert not os.path.exists(entry.path)


def test_made_at_the_first_record_only(plans) -> None:
    quiet = journal.Journal(PLAN)
    assert not os.path.exists(quiet.path)
    assert not os.path.exists(plans)
    quiet.close()  # a plan that recorded nothing leaves nothing
    assert not os.path.exists(plans)
    entry = journal.Journal(PLAN)
    entry.record(["delete_device", {"name": "tap0"}])
    assert os.path.exists(entry.path)
    entry.close()
    assert not os.path.exists(entry.path)


def test_an_existing_directory_open_to_others_is_narrowed(plans) -> None:
    (plans / "plans").mkdir(parents=True)
    os.chmod(plans, 0o777)
    os.chmod(plans / "plans", 0o777)
    journal.private_directory()
    assert _mode(plans) == 0o755
    assert _mode(plans / "plans") == 0o700


def test_a_directory_of_another_user_is_refused(plans) -> None:
    (plans / "plans").mkdir(parents=True)
    os.chown(plans / "plans", 65534, 65534)
    with pytest.raises(OSError, match="not a directory of uid"):
        journal.private_directory()
    # No journal then: the plan runs without one (logged), and no file
    # there is ever read back as a journal.
    entry = journal.Journal(PLAN)
    entry.record(["x", {}])
    assert not os.path.exists(entry.path)
    assert journal.read(PLAN) == []


def test_a_link_in_place_of_a_journal_is_not_followed(plans, tmp_path) -> None:
    journal.private_directory()
    target = tmp_path / "elsewhere.jsonl"
    target.write_text('["delete_device", {"name": "eth0"}]\n')
    os.symlink(target, journal.path(PLAN))
    assert journal.read(PLAN) == []
    entry = journal.Journal(PLAN)
    entry.record(["delete_device", {"name": "tap0"}])
    assert target.read_text() == '["delete_device", {"name": "eth0"}]\n'


def test_a_journal_others_may_write_is_ignored(plans) -> None:
    journal.private_directory()
    with open(journal.path(PLAN), "w") as handle:
        handle.write('["delete_device", {"name": "eth0"}]\n')
    os.chmod(journal.path(PLAN), 0o666)
    assert journal.read(PLAN) == []
    os.chmod(journal.path(PLAN), 0o600)
    assert journal.read(PLAN) == [["delete_device", {"name": "eth0"}]]


def test_a_fifo_in_place_of_a_journal_does_not_block(plans) -> None:
    # Opening a FIFO for reading blocks until a writer comes: the daemon,
    # holding its plan lock, would hang for good (found by the fuzzer).
    journal.private_directory()
    os.mkfifo(journal.path(PLAN), 0o600)
    assert journal.read(PLAN) == []
    entry = journal.Journal(PLAN)
    entry.record(["delete_device", {"name": "tap0"}])
    entry.close()
    assert stat.S_ISFIFO(os.lstat(journal.path(PLAN)).st_mode)


def test_a_directory_in_place_of_a_journal_is_left_alone(plans) -> None:
    journal.private_directory()
    os.mkdir(journal.path(PLAN), 0o700)
    assert journal.read(PLAN) == []
    entry = journal.Journal(PLAN)
    entry.record(["delete_device", {"name": "tap0"}])
    entry.close()
    # Removing what is not a journal fails quietly (logged), never raises.
    journal.remove(journal.path(PLAN))
    assert os.path.isdir(journal.path(PLAN))


def test_a_journal_too_deeply_nested_is_skipped_line_by_line(plans) -> None:
    journal.private_directory()
    fd = os.open(journal.path(PLAN), os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("[" * 100000 + "\n" + '["delete_device", {}]\n')
    assert journal.read(PLAN) == [["delete_device", {}]]
