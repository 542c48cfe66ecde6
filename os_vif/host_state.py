"""What os_vif says about the host: checks, collections and bulk outcomes.

This module is public API.  It holds the value types of
:func:`os_vif.check`, :func:`os_vif.gc` and the per-VIF outcomes of
:func:`os_vif.plug_many` / :func:`os_vif.unplug_many`, which plugins return
from the matching :class:`os_vif.plugin.PluginBase` methods:

* :class:`CheckReport` (made of :class:`Problem`): what differs on the host
  from what a VIF's plug would make;
* :class:`PluginCollection` (made of :class:`Removal`) and
  :class:`GCReport`: what a collection removed, or would remove;
* :class:`Outcome`: what the plug or unplug of one VIF of a batch did.

Every type is an immutable value (a frozen dataclass or an enum): a report
can be kept, compared and shown without reading the host again.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

__all__ = [
    "Outcome",
    "VIFResult",
    "Progress",
    "Problem",
    "CheckReport",
    "Removal",
    "PluginCollection",
    "GCReport",
]


class Outcome(enum.Enum):
    """What a bulk plug or unplug did to one VIF that did not fail."""

    #: The host was changed: the VIF is now plugged (or unplugged).
    DONE = "done"
    #: The host already was as asked; nothing was changed.
    UNCHANGED = "unchanged"

    def __str__(self) -> str:
        return self.value


#: A plugin's result for one VIF of a batch: its :class:`Outcome`, or the
#: exception that made this VIF (and only it) fail.
VIFResult = Outcome | Exception

#: ``progress(index, result)``: called once per VIF of a batch, as soon as
#: the VIF's ``result`` is final; ``index`` is its position in the batch.
Progress = Callable[[int, VIFResult], None]


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing on the host that differs from what the VIF needs.

    ``object`` names the thing (``device tap0``, ``port qvo1``, ``bridge
    br-int``); ``what`` is the property that differs (``exists``, ``mtu``,
    ``master``, ``kind``, ``external_ids:iface-id``, ``tag``...); then the
    value a plug would make and the value found (``None``: absent).
    """

    object: str
    what: str
    expected: Any
    found: Any

    def __str__(self) -> str:
        return "%s: %s is %r, expected %r" % (
            self.object,
            self.what,
            self.found,
            self.expected,
        )


@dataclasses.dataclass(frozen=True)
class CheckReport:
    """The answer of :func:`os_vif.check` for one VIF.

    A plugin's :meth:`~os_vif.plugin.PluginBase.check` returns
    ``CheckReport(problems=...)`` (empty: all is as a plug would make it);
    :func:`os_vif.check` fills in ``vif_id`` and ``plugin``.  A plugin
    that cannot check says so with ``supported=False`` (the default of
    :class:`~os_vif.plugin.PluginBase`), and a check that failed carries
    its exception in ``error``: in both cases the report says nothing
    about the host, and :attr:`ok` is false.
    """

    #: What differs on the host; empty when the VIF is as it should be.
    problems: tuple[Problem, ...] = ()
    #: False when the plugin has no check (nothing was read).
    supported: bool = True
    #: The exception the plugin's check raised, if it failed.
    error: Exception | None = None
    #: The VIF's id (None for a VIF without one).
    vif_id: str | None = None
    #: The name of the plugin that checked (or could not check) the VIF.
    plugin: str | None = None

    def __post_init__(self) -> None:
        # A list given by a plugin becomes a tuple: the report is a value.
        object.__setattr__(self, "problems", tuple(self.problems))

    @property
    def ok(self) -> bool:
        """True when the VIF was checked and nothing differs."""
        return self.supported and self.error is None and not self.problems

    @property
    def status(self) -> str:
        """``ok``, ``problems``, ``error`` or ``not supported``."""
        if not self.supported:
            return "not supported"
        if self.error is not None:
            return "error"
        return "problems" if self.problems else "ok"


@dataclasses.dataclass(frozen=True)
class Removal:
    """One thing a collection removed, or (dry run) would remove.

    ``what`` names it as :class:`Problem` names objects (``device
    qvb12ab``, ``port tap12ab``); ``kind`` is its kind (``tap``, ``veth``,
    ``bridge``, ``ovs-port``...); ``owner`` the id of the VIF it was made
    for, when the plugin can tell (an OVS port's ``iface-id``); ``reason``
    why it goes (e.g. ``no VIF in keep has iface-id 12ab...``).  ``error``
    is set when removing it failed; the rest of the collection went on.
    """

    what: str
    kind: str
    reason: str
    owner: str | None = None
    error: Exception | None = None
    #: The name of the plugin that collected it (filled in by os_vif.gc).
    plugin: str | None = None

    @property
    def failed(self) -> bool:
        """True when the removal was tried and failed."""
        return self.error is not None


@dataclasses.dataclass(frozen=True)
class PluginCollection:
    """What one plugin's :meth:`~os_vif.plugin.PluginBase.gc` did.

    A plugin returns ``PluginCollection(removals=...)``; one that does not
    collect returns ``supported=False`` (the default of
    :class:`~os_vif.plugin.PluginBase`).  :func:`os_vif.gc` fills in
    ``plugin``, and ``error`` when the plugin's collection raised (its
    removals are then unknown).  ``reason`` explains an unsupported or
    skipped collection in words.
    """

    removals: tuple[Removal, ...] = ()
    supported: bool = True
    error: Exception | None = None
    reason: str = ""
    plugin: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "removals", tuple(self.removals))

    @property
    def ok(self) -> bool:
        """True when the plugin collected and every removal succeeded."""
        return (
            self.supported
            and self.error is None
            and not any(removal.failed for removal in self.removals)
        )


@dataclasses.dataclass(frozen=True)
class GCReport(Sequence[Removal]):
    """The answer of :func:`os_vif.gc`: a sequence of :class:`Removal`.

    Iterating over it, ``len()`` and indexing give the removals of every
    plugin, in the order of ``plugins``; ``plugins`` has one
    :class:`PluginCollection` per plugin offered a collection, which says
    whether it could collect and whether it failed as a whole.
    """

    plugins: tuple[PluginCollection, ...] = ()
    #: True when nothing was removed: the removals are what would go.
    dry_run: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "plugins", tuple(self.plugins))

    @property
    def removals(self) -> tuple[Removal, ...]:
        """Every plugin's removals, in order."""
        return tuple(
            removal
            for collection in self.plugins
            for removal in collection.removals
        )

    @property
    def ok(self) -> bool:
        """True when every plugin collected and nothing failed."""
        return all(collection.ok for collection in self.plugins)

    @overload
    def __getitem__(self, index: int) -> Removal: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Removal]: ...

    def __getitem__(self, index: int | slice) -> Removal | Sequence[Removal]:
        return self.removals[index]

    def __len__(self) -> int:
        return len(self.removals)

    def __iter__(self) -> Iterator[Removal]:
        return iter(self.removals)
