"""The base class of every os_vif plugin.

This module is public API.  A plugin subclasses :class:`PluginBase`,
declares its configuration options in :attr:`PluginBase.CONFIG_OPTS` and is
registered as an entry point in the ``os_vif`` namespace.  os_vif loads it by
that name with :meth:`PluginBase.load`, which registers the options (if it
has any) in the group ``os_vif_<plugin name>`` of
:data:`oslo_config.cfg.CONF`.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from oslo_config import cfg

from os_vif import host_state

if TYPE_CHECKING:
    from os_vif.objects import host_info as host_info_objects
    from os_vif.objects import instance_info as instance_info_objects
    from os_vif.objects import vif as vif_objects
    from os_vif.objects import workload as workload_objects

__all__ = ["PluginBase", "config_group_name"]

_PluginT = TypeVar("_PluginT", bound="PluginBase")


def config_group_name(plugin_name: str) -> str:
    """Return the oslo.config group that holds ``plugin_name``'s options."""
    return "os_vif_" + plugin_name


class PluginBase(metaclass=abc.ABCMeta):
    """Base class for all VIF plugins.

    A plugin describes which VIF types and port profiles it handles
    (:meth:`describe`) and attaches (:meth:`plug`) or detaches
    (:meth:`unplug`) a VIF on the host.  Both must be idempotent: nova
    re-plugs every VIF when nova-compute restarts and may unplug a VIF that
    is already gone.

    The other methods are optional; their defaults keep a plugin that only
    has the three above working:

    * :meth:`plug_many` / :meth:`unplug_many` (batches) loop over
      :meth:`plug` / :meth:`unplug`;
    * :meth:`check` (does the host match a VIF?) and :meth:`gc` (remove
      what no VIF needs) answer "not supported by this plugin";
      :meth:`check_many` loops over :meth:`check`;
    * :meth:`validate_plug` (would :meth:`plug` accept these arguments?)
      accepts everything.
    """

    #: The :class:`oslo_config.cfg.Opt` objects this plugin reads.  They are
    #: registered in the group ``os_vif_<plugin name>`` by :meth:`load`.
    CONFIG_OPTS: ClassVar[Sequence[cfg.Opt]] = ()

    def __init__(self, config: Any) -> None:
        """Keep ``config``, this plugin's option group (``CONF.os_vif_x``)."""
        self.config = config

    @abc.abstractmethod
    def describe(self) -> host_info_objects.HostPluginInfo:
        """Return a HostPluginInfo naming the VIF types this plugin handles."""

    @abc.abstractmethod
    def plug(
        self,
        vif: vif_objects.VIFBase,
        instance_info: instance_info_objects.InstanceInfo,
    ) -> host_state.Outcome | None:
        """Attach ``vif`` of the instance ``instance_info`` to the host.

        Raise :class:`os_vif.exception.PlugException` (or a subclass) on
        failure, after undoing any step already made.  Return None (the VIF
        is plugged), or :attr:`~os_vif.host_state.Outcome.UNCHANGED` to say
        that it already was and nothing changed (:meth:`plug_many`'s
        default reports it; :func:`os_vif.plug` returns None either way).
        """

    @abc.abstractmethod
    def unplug(
        self,
        vif: vif_objects.VIFBase,
        instance_info: instance_info_objects.InstanceInfo,
    ) -> host_state.Outcome | None:
        """Detach ``vif`` of the instance ``instance_info`` from the host.

        Unplugging a VIF that is not plugged is not an error.  Raise
        :class:`os_vif.exception.UnplugException` on failure.  Return None,
        or :attr:`~os_vif.host_state.Outcome.UNCHANGED` when nothing of the
        VIF was there.
        """

    def plug_many(
        self,
        pairs: Sequence[
            tuple[vif_objects.VIFBase, instance_info_objects.InstanceInfo]
        ],
        progress: host_state.Progress | None = None,
        *,
        workloads: Sequence[workload_objects.WorkloadInterface | None]
        | None = None,
    ) -> list[host_state.VIFResult]:
        """Plug every ``(vif, instance_info)`` of ``pairs``.

        The contract of a batch, for an override:

        * return one result per pair, in order: an
          :class:`~os_vif.host_state.Outcome` (``DONE``, or ``UNCHANGED``
          when the host already was as the VIF describes) or the exception
          that made this VIF fail (not raised: :func:`os_vif.plug_many`
          wraps it in a :class:`~os_vif.exception.PlugException`, as
          :func:`os_vif.plug` wraps a plugin's errors);
        * each VIF is all or nothing: a failed VIF leaves nothing of its own
          behind, and never stops or undoes the others;
        * call ``progress(index, result)`` (when given) once per pair, with
          the result it returns for it, as soon as it is final; do not
          catch what ``progress`` raises (it ends the batch);
        * ``pairs`` was checked as :func:`os_vif.plug` checks its arguments;
          the same VIF may appear twice (the second is a re-plug).

        ``workloads`` (new in os-vif 6) is given only when a pair of the
        batch has a workload's end, and only to a plugin whose
        :meth:`supports_workload` answered true for each such VIF: one item
        per pair, a :class:`~os_vif.objects.workload.WorkloadInterface` or
        None, what :meth:`plug`'s ``workload`` is for that VIF.  A plugin
        that does not support workloads never gets it, so an override
        written for os-vif 5.x keeps its signature; an override without
        the parameter in a plugin that does is passed over for such a
        batch, which then runs this default.

        An exception raised by the method itself fails every VIF of the
        batch.  The default plugs the VIFs one by one with :meth:`plug`
        (``workload=`` only for a VIF that has one).
        """
        return self._one_by_one(self.plug, pairs, progress, workloads)

    def unplug_many(
        self,
        pairs: Sequence[
            tuple[vif_objects.VIFBase, instance_info_objects.InstanceInfo]
        ],
        progress: host_state.Progress | None = None,
        *,
        workloads: Sequence[workload_objects.WorkloadInterface | None]
        | None = None,
    ) -> list[host_state.VIFResult]:
        """Unplug every ``(vif, instance_info)`` of ``pairs``.

        The contract of :meth:`plug_many`, for :meth:`unplug`
        (``UNCHANGED``: nothing of the VIF was on the host), ``workloads``
        included.  The default unplugs the VIFs one by one with
        :meth:`unplug`.
        """
        return self._one_by_one(self.unplug, pairs, progress, workloads)

    @staticmethod
    def _one_by_one(
        method: Any,
        pairs: Sequence[tuple[Any, Any]],
        progress: host_state.Progress | None,
        workloads: Sequence[workload_objects.WorkloadInterface | None]
        | None = None,
    ) -> list[host_state.VIFResult]:
        results: list[host_state.VIFResult] = []
        for index, (vif, instance_info) in enumerate(pairs):
            more = _workload_of(workloads, index)
            result: host_state.VIFResult
            try:
                returned = method(vif, instance_info, **more)
            except Exception as err:
                result = err
            else:
                result = (
                    host_state.Outcome.UNCHANGED
                    if returned is host_state.Outcome.UNCHANGED
                    else host_state.Outcome.DONE
                )
            results.append(result)
            # Outside the try: what progress raises ends the batch.
            if progress is not None:
                progress(index, result)
        return results

    def validate_plug(
        self,
        vif: vif_objects.VIFBase,
        instance_info: instance_info_objects.InstanceInfo,
    ) -> None:
        """Refuse, changing nothing, what :meth:`plug` would refuse.

        Called by :func:`os_vif.validate_plug` (and by the ``os-vif
        validate`` and ``os-vif plug`` commands for every VIF of a file
        before the first host change), after the checks :func:`os_vif.plug`
        makes itself (the library is initialised, the arguments are os_vif
        objects, the VIF names this plugin).  An override checks every
        field and option :meth:`plug` would use, as :meth:`plug` checks
        them, and raises the os_vif exception :meth:`plug` would raise
        (:class:`~os_vif.exception.InvalidArgument` naming the field and
        value, :class:`~os_vif.exception.NoMatchingPortProfileClass`...),
        without a privileged call and without reading or changing the host.
        It returns None when :meth:`plug` would go ahead.  The default
        accepts everything: the plugin makes no promise before
        :meth:`plug`.
        """
        return None  # nothing refused: plug() alone decides

    def supports_workload(self, vif: vif_objects.VIFBase) -> bool:
        """Whether this plugin makes the workload's end of ``vif`` too.

        A plugin that answers true accepts a keyword argument
        ``workload`` (a :class:`~os_vif.objects.workload.WorkloadInterface`)
        in :meth:`plug`, :meth:`unplug` and :meth:`check` for ``vif``, and
        then makes, removes and compares the interface inside the
        workload's namespace as well.  :func:`os_vif.plug` refuses a
        workload, before calling the plugin, when it answers false -- the
        default, so a plugin written for os-vif 5.x keeps its signatures.
        """
        return False

    def check(
        self,
        vif: vif_objects.VIFBase,
        instance_info: instance_info_objects.InstanceInfo,
    ) -> host_state.CheckReport:
        """Say what on the host differs from what plugging ``vif`` makes.

        An override reads the host only (netlink, sysfs, the OVSDB cache),
        with no privilege and no change, and returns a
        :class:`~os_vif.host_state.CheckReport` with one
        :class:`~os_vif.host_state.Problem` per difference (none: a plug
        would change nothing).  It may raise; :func:`os_vif.check` reports
        the error.  The default answers ``supported=False``.
        """
        return host_state.CheckReport(supported=False)

    def check_many(
        self,
        pairs: Sequence[
            tuple[vif_objects.VIFBase, instance_info_objects.InstanceInfo]
        ],
        *,
        workloads: Sequence[workload_objects.WorkloadInterface | None]
        | None = None,
    ) -> list[host_state.CheckReport]:
        """:meth:`check` every ``(vif, instance_info)`` of ``pairs``.

        Returns one report per pair, in order.  An override reads the host
        once for all (one link dump, one look at the OVSDB cache) instead
        of once per VIF.  ``workloads`` as for :meth:`plug_many`.  The
        default calls :meth:`check` for each (``workload=`` only for a VIF
        that has one); a check that raises gets a report with its
        ``error``.
        """
        reports = []
        for index, (vif, instance_info) in enumerate(pairs):
            try:
                reports.append(
                    self.check(
                        vif, instance_info, **_workload_of(workloads, index)
                    )
                )
            except Exception as err:
                reports.append(host_state.CheckReport(error=err))
        return reports

    def gc(
        self,
        keep: Sequence[vif_objects.VIFBase],
        dry_run: bool = False,
    ) -> host_state.PluginCollection:
        """Remove what this plugin made for a VIF that is not in ``keep``.

        ``keep`` is every VIF naming this plugin that should exist on the
        host (possibly none).  An override removes each device, port or
        bridge the plugin owns (and only those) that belongs to no VIF of
        ``keep``, or with ``dry_run`` only lists them; it reports each in
        a :class:`~os_vif.host_state.Removal`, a failed removal with its
        ``error`` and goes on with the next.  It returns a
        :class:`~os_vif.host_state.PluginCollection`; an exception it
        raises is reported by :func:`os_vif.gc` as this plugin's failure.
        The default answers ``supported=False`` and removes nothing.
        """
        return host_state.PluginCollection(supported=False)

    @classmethod
    def load(cls: type[_PluginT], plugin_name: str) -> _PluginT:
        """Register this plugin's options and return a configured instance.

        The options in :attr:`CONFIG_OPTS` land in the group
        ``os_vif_<plugin_name>`` of the global configuration, where
        operators set them in the service's configuration file.  A plugin
        without options registers no group (as in os-vif 5.x); it gets an
        empty group of a configuration of its own, so that ``config`` is
        never None.
        """
        group = config_group_name(plugin_name)
        if cls.CONFIG_OPTS:
            # Registering the same options twice is harmless in
            # oslo.config, so loading a plugin again just works.
            cfg.CONF.register_opts(
                list(cls.CONFIG_OPTS),
                group=cfg.OptGroup(
                    group, title="os-vif plugin %s options" % plugin_name
                ),
            )
            return cls(getattr(cfg.CONF, group))
        private = cfg.ConfigOpts()
        private.register_group(cfg.OptGroup(group))
        return cls(getattr(private, group))


def _workload_of(workloads: Any, index: int) -> dict[str, Any]:
    """The keyword arguments giving pair ``index`` its workload, if any.

    Empty without one: the plugin's method is called with os-vif 5.x's
    arguments, as :func:`os_vif.plug` calls it.
    """
    if workloads is None or workloads[index] is None:
        return {}
    return {"workload": workloads[index]}
