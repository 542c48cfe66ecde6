"""Emit what a kuryr-kubernetes release stores in Kubernetes, as JSON.

Run by ``tools/make_wire_vectors.py`` with the Python of an isolated venv
holding one kuryr-kubernetes release (and the os-vif it was installed
with).  Never imported by the project.

The VIF objects are made by kuryr's own translation code
(``kuryr_kubernetes.os_vif_util`` and ``utils.get_subnet``) from fixed,
realistic Neutron resources, and serialised by kuryr's own writers:

* kuryr >= 4 (KuryrPort CRD): ``KuryrPortHandler._update_kuryrport_crd``,
  whose PATCH body ``{"vifs": {ifname: {"default": bool, "vif": primitive}}}``
  becomes the KuryrPort's ``status``;
* kuryr 1.x (pod annotation): ``VIFHandler._set_pod_state``, which writes the
  ``openstack.org/kuryr-vif`` annotation (a JSON string of a ``PodState``).

Only the Neutron and Kubernetes clients are replaced, by recorders that
return the fixed resources and capture what kuryr sends.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import platform
import sys
import warnings
from typing import Any

# Fixed Neutron world: one tenant network with an IPv4 and an IPv6 subnet,
# and a VLAN provider network for SR-IOV.
NET_ID = "2a4b6c8d-1e3f-4a5b-9c7d-00000000a001"
VLAN_NET_ID = "2a4b6c8d-1e3f-4a5b-9c7d-00000000a002"
SUBNET4_ID = "7e8f9a0b-2c3d-4e5f-8a9b-00000000b004"
SUBNET6_ID = "7e8f9a0b-2c3d-4e5f-8a9b-00000000b006"
VLAN_SUBNET_ID = "7e8f9a0b-2c3d-4e5f-8a9b-00000000b0f1"
PROJECT_ID = "5f6e7d8c9b0a41d2a3b4c5d6e7f80910"
POD_UID = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"

NETWORKS: dict[str, dict[str, Any]] = {
    NET_ID: {
        "id": NET_ID,
        "name": "k8s-pod-net",
        "mtu": 1450,
        "provider:network_type": "geneve",
        "provider:segmentation_id": 4242,
    },
    VLAN_NET_ID: {
        "id": VLAN_NET_ID,
        "name": "sriov-physnet2",
        "mtu": 9000,
        "provider:network_type": "vlan",
        "provider:segmentation_id": 1001,
        "provider:physical_network": "physnet2",
    },
}
SUBNETS: dict[str, dict[str, Any]] = {
    SUBNET4_ID: {
        "id": SUBNET4_ID,
        "network_id": NET_ID,
        "ip_version": 4,
        "cidr": "10.10.0.0/23",
        "gateway_ip": "10.10.0.1",
        "dns_nameservers": ["10.10.0.2", "10.10.0.3"],
        "host_routes": [
            {"destination": "10.20.0.0/16", "nexthop": "10.10.0.254"}
        ],
    },
    SUBNET6_ID: {
        "id": SUBNET6_ID,
        "network_id": NET_ID,
        "ip_version": 6,
        "cidr": "fd00:10:10::/64",
        "gateway_ip": "fd00:10:10::1",
        "dns_nameservers": [],
        "host_routes": [],
    },
    VLAN_SUBNET_ID: {
        "id": VLAN_SUBNET_ID,
        "network_id": VLAN_NET_ID,
        "ip_version": 4,
        "cidr": "192.168.100.0/24",
        "gateway_ip": None,
        "dns_nameservers": [],
        "host_routes": [],
    },
}


def _port(
    n: int,
    subnet_ips: list[tuple[str, str]],
    network_id: str,
    vif_type: str,
    details: dict[str, Any],
) -> dict[str, Any]:
    """A Neutron port as the API returns it (neutronclient key names)."""
    return {
        "id": f"d4e5f6a7-b8c9-4d0e-8f1a-0000000000{n:02d}",
        "name": "default/demo-pod",
        "mac_address": f"fa:16:3e:4b:5c:{n:02x}",
        "network_id": network_id,
        "project_id": PROJECT_ID,
        "status": "ACTIVE",
        "device_owner": "compute:kuryr",
        "fixed_ips": [
            {"subnet_id": s, "ip_address": ip} for s, ip in subnet_ips
        ],
        "binding:vif_type": vif_type,
        "binding:vif_details": details,
        "binding:host_id": "k8s-worker-0",
    }


PORTS: dict[str, dict[str, Any]] = {
    "ovs": _port(
        1,
        [(SUBNET4_ID, "10.10.0.21"), (SUBNET6_ID, "fd00:10:10::21")],
        NET_ID,
        "ovs",
        {
            "port_filter": True,
            "ovs_hybrid_plug": False,
            "bridge_name": "br-int",
            "datapath_type": "system",
        },
    ),
    "ovs_hybrid": _port(
        2,
        [(SUBNET4_ID, "10.10.0.22")],
        NET_ID,
        "ovs",
        {
            "port_filter": True,
            "ovs_hybrid_plug": True,
            "bridge_name": "br-int",
        },
    ),
    "vlan": _port(3, [(SUBNET4_ID, "10.10.0.23")], NET_ID, "unbound", {}),
    "macvlan": _port(4, [(SUBNET4_ID, "10.10.0.24")], NET_ID, "unbound", {}),
    "dpdk": _port(5, [(SUBNET4_ID, "10.10.0.25")], NET_ID, "unbound", {}),
    "sriov": _port(
        6,
        [(VLAN_SUBNET_ID, "192.168.100.26")],
        VLAN_NET_ID,
        "hw_veb",
        {"port_filter": False, "vlan": "1001"},
    ),
}

POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "demo-pod",
        "namespace": "default",
        "uid": POD_UID,
        "resourceVersion": "734521",
        "selfLink": "/api/v1/namespaces/default/pods/demo-pod",
    },
    "spec": {"nodeName": "k8s-worker-0"},
}
KURYRPORT: dict[str, Any] = {
    "apiVersion": "openstack.org/v1",
    "kind": "KuryrPort",
    "metadata": {
        "name": "demo-pod",
        "namespace": "default",
        "selfLink": "/apis/openstack.org/v1/namespaces/default/"
        "kuryrports/demo-pod",
    },
    "spec": {"podUid": POD_UID, "podNodeName": "k8s-worker-0"},
    "status": {"vifs": {}},
}


def _sdk_kwargs(resource: dict[str, Any]) -> dict[str, Any]:
    """neutronclient key names -> openstacksdk attribute names."""
    return {key.replace(":", "_"): value for key, value in resource.items()}


class _NeutronRecorder:
    """Answers kuryr's Neutron look-ups with the fixed resources.

    Offers both client flavours: openstacksdk (kuryr >= 2) and
    neutronclient's ``show_*`` dict API (kuryr 1.x).
    """

    def get_subnet(self, subnet_id: str) -> Any:
        from openstack.network.v2 import subnet

        return subnet.Subnet(**_sdk_kwargs(SUBNETS[subnet_id]))

    def get_network(self, network_id: str) -> Any:
        from openstack.network.v2 import network

        return network.Network(**_sdk_kwargs(NETWORKS[network_id]))

    def show_subnet(self, subnet_id: str) -> dict[str, Any]:
        return {"subnet": dict(SUBNETS[subnet_id])}

    def show_network(self, network_id: str) -> dict[str, Any]:
        return {"network": dict(NETWORKS[network_id])}


class _K8sRecorder:
    """Captures what kuryr would send to the Kubernetes API."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def patch_crd(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append(("patch_crd", args, kwargs))

    def annotate(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append(("annotate", args, kwargs))

    def add_event(self, *args: Any, **kwargs: Any) -> None:
        pass


def _normalise(value: Any) -> Any:
    """Sort OVO ``changes`` lists (built from a set) for stable output."""
    if isinstance(value, dict):
        out = {key: _normalise(item) for key, item in value.items()}
        changes = out.get("versioned_object.changes")
        if isinstance(changes, list):
            out["versioned_object.changes"] = sorted(changes)
        return out
    if isinstance(value, list):
        return [_normalise(item) for item in value]
    return value


class Producer:
    """Drives one installed kuryr-kubernetes release."""

    def __init__(self) -> None:
        self.release = importlib.metadata.version("kuryr-kubernetes")
        self.major = int(self.release.split(".")[0])
        from kuryr_kubernetes import clients, utils
        from kuryr_kubernetes import os_vif_util as ovu

        self.ovu = ovu
        self.utils = utils
        self.neutron = _NeutronRecorder()
        self.k8s = _K8sRecorder()
        # kuryr looks its clients up at call time through these functions.
        clients.get_network_client = lambda: self.neutron
        clients.get_neutron_client = lambda: self.neutron
        clients.get_kubernetes_client = lambda: self.k8s
        self.sdk_ports = self.major >= 2

    def port(self, name: str) -> Any:
        raw = PORTS[name]
        if not self.sdk_ports:
            return dict(raw)
        from openstack.network.v2 import port

        return port.Port(**_sdk_kwargs(raw))

    def subnets(self, *subnet_ids: str) -> dict[str, Any]:
        """The subnet mapping kuryr's PodSubnetsDriver returns."""
        return {sid: self.utils.get_subnet(sid) for sid in subnet_ids}

    # -- VIF translation: kuryr's own functions --------------------------

    def vif(self, kind: str) -> Any:
        ovu = self.ovu
        if kind in ("ovs", "ovs_hybrid"):
            subnets = self.subnets(SUBNET4_ID, SUBNET6_ID)
            port = self.port(kind)
            vif_type = (
                port.binding_vif_type
                if self.sdk_ports
                else port["binding:vif_type"]
            )
            return ovu.neutron_to_osvif_vif(vif_type, port, subnets)
        if kind == "vlan":
            return ovu.neutron_to_osvif_vif_nested_vlan(
                self.port(kind), self.subnets(SUBNET4_ID), 1042
            )
        if kind == "macvlan":
            return ovu.neutron_to_osvif_vif_nested_macvlan(
                self.port(kind), self.subnets(SUBNET4_ID)
            )
        if kind == "dpdk":
            return ovu.neutron_to_osvif_vif_dpdk(
                self.port(kind), self.subnets(SUBNET4_ID), POD
            )
        if kind == "sriov":
            vif = ovu.neutron_to_osvif_vif(
                "sriov", self.port(kind), self.subnets(VLAN_SUBNET_ID)
            )
            # What kuryr's SriovVIFDriver.request_vif sets after translating
            # (the fields that exist in this release's VIFSriov).
            extra = {
                "physnet": "physnet2",
                "pod_name": "demo-pod",
                "pod_link": POD["metadata"]["selfLink"],
            }
            for field, value in extra.items():
                if field in vif.fields:
                    setattr(vif, field, value)
            return vif
        raise KeyError(kind)

    def translators(self) -> list[str]:
        """The VIF kinds this release can translate."""
        kinds = ["ovs", "ovs_hybrid"]
        if hasattr(self.ovu, "neutron_to_osvif_vif_nested_vlan"):
            kinds.append("vlan")
        if hasattr(self.ovu, "neutron_to_osvif_vif_nested_macvlan"):
            kinds.append("macvlan")
        if hasattr(self.ovu, "neutron_to_osvif_vif_dpdk"):
            kinds.append("dpdk")
        if hasattr(self.ovu, "neutron_to_osvif_vif_sriov"):
            kinds.append("sriov")
        return kinds

    # -- writers: kuryr's own serialisation ------------------------------

    def kuryrport_status(self, vifs: dict[str, dict[str, Any]]) -> Any:
        """The PATCH body kuryr sends to a KuryrPort's status."""
        handler_mod = importlib.import_module(
            "kuryr_kubernetes.controller.handlers.kuryrport"
        )
        handler = object.__new__(handler_mod.KuryrPortHandler)
        handler.k8s = self.k8s
        self.k8s.calls.clear()
        handler._update_kuryrport_crd(dict(KURYRPORT), vifs)
        ((name, args, _kwargs),) = self.k8s.calls
        assert name == "patch_crd" and args[0] == "status", args
        return args[2]

    def pod_annotation(self, state: Any) -> Any:
        """The annotations kuryr 1.x sets on the pod for a PodState."""
        handler_mod = importlib.import_module(
            "kuryr_kubernetes.controller.handlers.vif"
        )
        handler = object.__new__(handler_mod.VIFHandler)
        self.k8s.calls.clear()
        handler._set_pod_state(POD, state)
        ((name, args, _kwargs),) = self.k8s.calls
        assert name == "annotate", name
        return args[1]

    def has_kuryrport(self) -> bool:
        try:
            mod = importlib.import_module(
                "kuryr_kubernetes.controller.handlers.kuryrport"
            )
        except ImportError:
            return False
        return hasattr(mod.KuryrPortHandler, "_update_kuryrport_crd")

    # -- documents -------------------------------------------------------

    def vectors_from_status(
        self, name: str, status: dict[str, Any]
    ) -> list[dict[str, Any]]:
        out = []
        for ifname, entry in sorted(status["vifs"].items()):
            out.append(self.vector(name, f"vifs.{ifname}.vif", entry["vif"]))
        return out

    def vector(
        self, name: str, path: str, primitive: dict[str, Any]
    ) -> dict[str, Any]:
        obj = primitive["versioned_object.name"]
        version = primitive["versioned_object.version"]
        return {
            "id": f"{obj}/{name}:{path}@{version}",
            "object": obj,
            "sample": f"{name}:{path}",
            "path": path,
            "producer": "kuryr-kubernetes",
            "release": self.release,
            "target_version": version,
            "manifest_kind": None,
            "version_manifest": None,
            "primitive": primitive,
            "error": None,
        }

    def document(
        self,
        name: str,
        description: str,
        written_by: str,
        kind: str,
        payload: Any,
        vectors: list[dict[str, Any]],
    ) -> dict[str, Any]:
        return {
            "name": name,
            "description": description,
            "kind": kind,
            "written_by": written_by,
            "producer": "kuryr-kubernetes",
            "release": self.release,
            "environment": environment(),
            "payload": _normalise(payload),
            "vectors": _normalise(vectors),
        }

    def run(self) -> list[dict[str, Any]]:
        docs = []
        kinds = self.translators()
        if self.has_kuryrport():
            writer = (
                "kuryr_kubernetes.controller.handlers.kuryrport."
                "KuryrPortHandler._update_kuryrport_crd"
            )
            for kind in kinds:
                status = self.kuryrport_status(
                    {"eth0": {"default": True, "vif": self.vif(kind)}}
                )
                name = f"kuryrport-{kind.replace('_', '-')}"
                docs.append(
                    self.document(
                        name,
                        f"KuryrPort status for a pod with one {kind} VIF",
                        writer,
                        "kuryrport-status",
                        status,
                        self.vectors_from_status(name, status),
                    )
                )
            # A pod with additional interfaces, as with network attachments.
            multi = {"eth0": {"default": True, "vif": self.vif(kinds[0])}}
            for index, kind in enumerate(kinds[2:], start=1):
                multi[f"eth{index}"] = {
                    "default": False,
                    "vif": self.vif(kind),
                }
            status = self.kuryrport_status(multi)
            docs.append(
                self.document(
                    "kuryrport-multi-vif",
                    "KuryrPort status for a pod with a default and additional "
                    "VIFs of every kind this release translates",
                    writer,
                    "kuryrport-status",
                    status,
                    self.vectors_from_status("kuryrport-multi-vif", status),
                )
            )
        docs.append(self.pod_state_document(kinds))
        return docs

    def pod_state_document(self, kinds: list[str]) -> dict[str, Any]:
        """A PodState annotation: written by kuryr 1.x, read by all."""
        from kuryr_kubernetes.objects import vif as k_vif

        additional = {
            f"eth{i}": self.vif(kind)
            for i, kind in enumerate(kinds[2:], start=1)
        }
        state = k_vif.PodState(
            default_vif=self.vif("ovs"), additional_vifs=additional
        )
        annotation_key = "openstack.org/kuryr-vif"
        if hasattr(
            importlib.import_module(
                "kuryr_kubernetes.controller.handlers.vif"
            ).VIFHandler,
            "_set_pod_state",
        ):
            annotations = self.pod_annotation(state)
            writer = (
                "kuryr_kubernetes.controller.handlers.vif."
                "VIFHandler._set_pod_state"
            )
        else:
            # This release no longer writes the annotation, only reads it
            # (utils.extract_pod_annotation): store it in the format that
            # reader accepts, and check that it does.
            from oslo_serialization import jsonutils

            annotations = {
                annotation_key: jsonutils.dumps(
                    state.obj_to_primitive(), sort_keys=True
                )
            }
            writer = (
                "PodState.obj_to_primitive() + jsonutils.dumps("
                "sort_keys=True); loads with "
                "kuryr_kubernetes.utils.extract_pod_annotation"
            )
        text = annotations[annotation_key]
        primitive = json.loads(text)
        if hasattr(self.utils, "extract_pod_annotation"):
            loaded = self.utils.extract_pod_annotation(primitive)
            assert loaded.obj_name() == "PodState", loaded
        return self.document(
            "pod-annotation-podstate",
            "Pod annotation openstack.org/kuryr-vif: a PodState with a "
            "default VIF and additional VIFs; the annotation value is a "
            "JSON string (kept verbatim in payload)",
            writer,
            "pod-annotation",
            annotations,
            [
                self.vector(
                    "pod-annotation-podstate",
                    f"metadata.annotations[{annotation_key}]",
                    primitive,
                )
            ],
        )


def environment() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "os-vif": importlib.metadata.version("os-vif"),
        "oslo.versionedobjects": importlib.metadata.version(
            "oslo.versionedobjects"
        ),
    }


def main() -> int:
    warnings.simplefilter("ignore")
    import os_vif

    if not (os_vif.__file__ or "").startswith(sys.prefix):
        raise SystemExit(f"os_vif comes from {os_vif.__file__}, not this venv")
    os_vif_objects = importlib.import_module("os_vif.objects")
    os_vif_objects.register_all()
    docs = Producer().run()
    json.dump({"payloads": docs}, sys.stdout, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
