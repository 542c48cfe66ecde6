"""os_vif's privsep daemon with only the SR-IOV VF netlink calls faked.

Run as ``python -m tests.fake_vf_daemon <privsep-helper arguments>`` (the
tests set it as the daemon's ``helper_command``).  Every netlink request
goes to the real kernel, except the two that need SR-IOV hardware, which
are answered from a JSON state file named by ``$OS_VIF_FAKE_VF_STATE``:

* ``link("set", index=<PF>, vf={...})`` -- recorded in ``calls`` with the
  exact attributes and applied to the PF's VF table, or refused with the
  errno in the PF's ``fail`` map when one of the attributes is listed
  there (a driver that cannot set trust, say);
* ``link("get", index=<PF>, ext_mask=...)`` -- the kernel's answer, plus the
  PF's VF table as ``IFLA_NUM_VF`` and ``IFLA_VFINFO_LIST`` attributes.

A device missing from the state file gets the kernel's own answer
(EOPNOTSUPP for a veth); its request is recorded all the same.

The state file looks like::

    {"pfs": {"enp3s0f0np0": {"vfs": [{"mac": "00:00:00:00:00:00",
             "vlan": 0, "spoofchk": 1, "trust": 0, "link_state": 0}, ...],
             "fail": {"trust": 95}}},
     "calls": [{"pf": "enp3s0f0np0", "index": 7, "vf": {...}}]}
"""

from __future__ import annotations

import errno
import json
import os
import sys
from typing import Any

from pyroute2.iproute import linux as iproute_linux
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

STATE_ENV = "OS_VIF_FAKE_VF_STATE"

_real_link = iproute_linux.AsyncIPRoute.link


def _load() -> dict[str, Any]:
    with open(os.environ[STATE_ENV]) as handle:
        return json.load(handle)


def _save(state: dict[str, Any]) -> None:
    path = os.environ[STATE_ENV]
    with open(path + ".tmp", "w") as handle:
        json.dump(state, handle, indent=1)
    os.replace(path + ".tmp", path)


def _with_vfs(link: Any, vfs: list[dict[str, Any]]) -> Any:
    """Return ``link`` re-encoded with ``vfs`` as the kernel reports them."""
    infos = []
    for number, vf in enumerate(vfs):
        infos.append(
            (
                "IFLA_VF_INFO",
                {
                    "attrs": [
                        ("IFLA_VF_MAC", {"vf": number, "mac": vf["mac"]}),
                        (
                            "IFLA_VF_VLAN",
                            {"vf": number, "vlan": vf["vlan"], "qos": 0},
                        ),
                        (
                            "IFLA_VF_SPOOFCHK",
                            {"vf": number, "spoofchk": vf["spoofchk"]},
                        ),
                        (
                            "IFLA_VF_LINK_STATE",
                            {"vf": number, "link_state": vf["link_state"]},
                        ),
                        (
                            "IFLA_VF_TRUST",
                            {"vf": number, "trust": vf["trust"]},
                        ),
                    ]
                },
            )
        )
    msg = ifinfmsg()
    for key in ("family", "ifi_type", "index", "flags", "change"):
        msg[key] = link[key]
    msg["attrs"] = [
        ("IFLA_IFNAME", link.get("ifname")),
        ("IFLA_NUM_VF", len(vfs)),
        ("IFLA_VFINFO_LIST", {"attrs": infos}),
    ]
    msg.encode()
    decoded = ifinfmsg(msg.data)
    decoded.decode()
    return decoded


async def _link(self: Any, command: str, **kwarg: Any) -> Any:
    if command == "set" and "vf" in kwarg:
        index = kwarg["index"]
        name = (await _real_link(self, "get", index=index))[0].get("ifname")
        state = _load()
        pf = state["pfs"].get(name)
        spec = dict(kwarg["vf"])
        state["calls"].append({"pf": name, "index": index, "vf": dict(spec)})
        _save(state)
        if pf is None:
            # Not a fake PF: the kernel answers (EOPNOTSUPP for a veth).
            return await _real_link(self, command, **kwarg)
        for key in spec:
            if key in pf.get("fail", {}):
                raise NetlinkError(pf["fail"][key], "refused %s" % key)
        number = spec.pop("vf")
        if not 0 <= number < len(pf["vfs"]):
            raise NetlinkError(errno.EINVAL, "no VF %d" % number)
        pf["vfs"][number].update(spec)
        _save(state)
        return ()
    result = await _real_link(self, command, **kwarg)
    if command == "get" and kwarg.get("ext_mask"):
        pf = _load()["pfs"].get(result[0].get("ifname"))
        if pf is not None:
            return (_with_vfs(result[0], pf["vfs"]),)
    return result


def main() -> None:
    """Patch pyroute2, then run the privsep daemon as usual."""
    iproute_linux.AsyncIPRoute.link = _link  # type: ignore[method-assign]
    from oslo_privsep import daemon

    sys.argv[0] = "privsep-helper"
    daemon.helper_main()


if __name__ == "__main__":
    main()
