"""The objects are os-vif 5.3.0's, field for field, as the fingerprints say."""

import json
import pathlib

import pytest
from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fixture

from os_vif import objects

REFERENCE = (
    pathlib.Path(__file__).resolve().parents[4]
    / "shared"
    / "reference"
    / "os-vif-5.3.0-wire-schema.json"
)

# The reference table's fingerprints, kept here so that the test runs where
# the shared folder is not (a source tarball); the test below checks that
# this copy matches the reference file whenever it is present.
EXPECTED = {
    "DatapathOffloadBase": "1.0-77509ea1ea0dd750d5864b9bd87d3f9d",
    "DatapathOffloadRepresentor": "1.0-802a5dff22f73046df3742c815c51421",
    "FixedIP": "1.0-d1a0ec7e7b6ce021a784c54d44cce009",
    "FixedIPList": "1.0-15ecf022a68ddbb8c2a6739cfc9f8f5e",
    "HostInfo": "1.0-4dba5ce236ea2dc559de8764995dd247",
    "HostPluginInfo": "1.0-5204e579864981c9891ecb5d1c9329f2",
    "HostPortProfileInfo": "1.0-e0bc9228c1456b220830d67b05bc4bf2",
    "HostVIFInfo": "1.1-00fdbeba3f9bb3bd2a723c17023ba182",
    "InstanceInfo": "1.0-84104d3435046b1a282ac8265ec2a976",
    "Network": "1.1-27a8a3e236d1d239121668a590130154",
    "Route": "1.0-5ca049cb82c4d4ec5edb1b839c1429c7",
    "RouteList": "1.0-15ecf022a68ddbb8c2a6739cfc9f8f5e",
    "Subnet": "1.0-6a8c192ef7492120d1a5e0fd08e44272",
    "SubnetList": "1.0-15ecf022a68ddbb8c2a6739cfc9f8f5e",
    "VIFBase": "1.0-4a5a8881dc999752cb050dd443458b6a",
    "VIFBridge": "1.0-e78d355f3505361fafbf0797ffad484a",
    "VIFDirect": "1.0-05c939280f4025fd1f7efb921a835c57",
    "VIFGeneric": "1.0-c72e637ed620f0135ea50a9409a3f389",
    "VIFHostDevice": "1.0-bb090f1869c3b4df36efda216ab97a61",
    "VIFNestedDPDK": "1.0-fdbaf6b20afd116529929b21aa7158dc",
    "VIFOpenVSwitch": "1.0-e78d355f3505361fafbf0797ffad484a",
    "VIFPortProfile8021Qbg": "1.1-b3011621809dca9216b50579ce9d6b19",
    "VIFPortProfile8021Qbh": "1.1-226b61b2e76ba452f7b31530cff80ac9",
    "VIFPortProfileBase": "1.1-4982d1621df12ebd1f3b07948f3d0e5f",
    "VIFPortProfileFPBridge": "1.1-49f1952bf50bab7a95112c908534751f",
    "VIFPortProfileFPOpenVSwitch": "1.4-20904c1dcdac0641cabf7b02525973bd",
    "VIFPortProfileFPTap": "1.1-fd178229477604dfb65de5ce929488e5",
    "VIFPortProfileK8sDPDK": "1.1-e2a2abd112b14e0239e76b99d9b252ae",
    "VIFPortProfileOVSRepresentor": "1.4-82b7292ee4cd6f808b724d2f5648932b",
    "VIFPortProfileOpenVSwitch": "1.4-54fb321f2b70c37d392fadc226c889e7",
    "VIFVHostUser": "1.1-1f95b43be1f884f090ca1f4d79adfd35",
}

KURYR_TYPES = {
    "VIFVlanNested": "1.0",
    "VIFMacvlanNested": "1.0",
    "VIFDPDKNested": "1.0",
    "VIFSriov": "1.1",
}

# What ObjectVersionChecker computes for kuryr-kubernetes 10.0.0's own
# definitions of these classes (run in its own virtualenv).
KURYR_FINGERPRINTS = {
    "PodState": "1.0-fe1adf362e99d06e219c41e11d88564a",
    "VIFDPDKNested": "1.0-39b0942b0c75a350b531a2eb48ea5d22",
    "VIFMacvlanNested": "1.0-c72e637ed620f0135ea50a9409a3f389",
    "VIFSriov": "1.1-29c1b9812c8ffab4cb9557ea65410816",
    "VIFVlanNested": "1.0-7c127b859770cdc04407590c39b59782",
}


@pytest.fixture(scope="module")
def hashes():
    objects.register_all()
    checker = fixture.ObjectVersionChecker(
        ovo_base.VersionedObjectRegistry.obj_classes()
    )
    return checker.get_hashes()


def test_all_31_fingerprints_equal(hashes):
    got = {name: hashes.get(name) for name in EXPECTED}
    assert got == EXPECTED
    assert len(EXPECTED) == 31


@pytest.mark.skipif(not REFERENCE.exists(), reason="no shared/ reference here")
def test_expected_table_is_the_reference():
    reference = json.loads(REFERENCE.read_text())
    assert {
        name: obj["fingerprint"] for name, obj in reference["objects"].items()
    } == EXPECTED


def test_kuryr_types_fingerprints_equal_kuryrs(hashes):
    assert {n: hashes[n] for n in KURYR_FINGERPRINTS} == KURYR_FINGERPRINTS


def test_kuryr_types_have_kuryrs_names_and_versions(hashes):
    from os_vif.objects import vif

    for name, version in KURYR_TYPES.items():
        assert getattr(vif, name).VERSION == version
        assert hashes[name].startswith(version + "-")


@pytest.mark.skipif(not REFERENCE.exists(), reason="no shared/ reference here")
def test_kuryr_types_have_kuryrs_fields():
    from os_vif.objects import vif

    reference = json.loads(REFERENCE.read_text())["kuryr_out_of_tree_types"]
    for name in KURYR_TYPES:
        spec = reference[name]
        cls = getattr(vif, name)
        base = getattr(vif, spec["base"])
        assert issubclass(cls, base)
        assert cls.VERSION == spec["version"]
        for field, kind in spec["fields"].items():
            assert type(cls.fields[field]).__name__ == kind.split()[0]
        assert set(cls.fields) == set(base.fields) | set(spec["fields"])
