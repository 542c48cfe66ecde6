"""How a plugin configures its calls to the privileged daemon.

The in-tree plugins hand their plans to a
:class:`~os_vif.internal.unprivileged.runner.HostRunner`; how long one call
to the daemon may take is the plugin's ``privsep_timeout`` option
(:func:`timeout_opt`, in every in-tree plugin's group), read each time the
plugin asks for its runner (:func:`runner`), so that a changed option (a
test's override, a reloaded configuration) applies to the next call.
``os_vif.internal`` knows nothing of plugins: the value is passed in.
"""

from __future__ import annotations

from typing import Protocol

from oslo_config import cfg

from os_vif.internal.unprivileged import daemon
from os_vif.internal.unprivileged.runner import HostRunner

__all__ = ["TIMEOUT_OPTION", "TimeoutOptions", "timeout_opt", "runner"]

#: The option's name in each plugin's group.
TIMEOUT_OPTION = "privsep_timeout"


def timeout_opt() -> cfg.IntOpt:
    """The ``privsep_timeout`` option (a new one for each plugin's list)."""
    return cfg.IntOpt(
        TIMEOUT_OPTION,
        default=int(daemon.DEFAULT_TIMEOUT),
        min=1,
        help="Longest time, in seconds, one call to the privileged daemon "
        "may take (its start included).  A daemon that does not answer in "
        "time (stopped or hung) is killed, a new daemon takes back what the "
        "call did, and the plug or unplug fails with HostOperationFailed.  "
        "A daemon that dies during a call is noticed at once, without "
        "waiting for this timeout: a new daemon takes back what it did and "
        "the call is retried once.",
    )


class TimeoutOptions(Protocol):
    """A plugin's options with :func:`timeout_opt` among them."""

    privsep_timeout: int


def runner(base: HostRunner, config: TimeoutOptions) -> HostRunner:
    """``base`` with calls bounded by ``config.privsep_timeout`` seconds."""
    return base.with_timeout(float(config.privsep_timeout))
