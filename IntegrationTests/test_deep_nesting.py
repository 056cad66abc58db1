"""Deeply nested sequences (a Content Sequence with one item per level,
undefined lengths) on every route that parses DICOM: each request gets a 400
naming the maximum nesting depth, or a correct result, and Orthanc keeps
running (Orthanc 1.10.1's HTTP threads have 100 KB stacks: without the
protection, depth 50 killed it with SIGSEGV)."""

import base64
import io
import struct

import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from test_encrypted_attributes import make_keys

DEPTHS = [30, 50, 200, 2000, 20000]
MAXIMUM = 32   # the default Deidentification.MaximumNestingDepth


def element(group, elem, vr, value):
    if len(value) % 2:
        value += b" "
    return struct.pack("<HH", group, elem) + vr + struct.pack("<H", len(value)) + value


def nested_content(depth):
    """(0040,A730) Content Sequence nested `depth` deep, explicit VR little endian."""
    head = []
    for _ in range(depth):
        head.append(struct.pack("<HH", 0x0040, 0xA730) + b"SQ\0\0" + struct.pack("<I", 0xFFFFFFFF))
        head.append(struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF))
        head.append(element(0x0040, 0xA010, b"CS", b"CONTAINS"))
        head.append(element(0x0040, 0xA040, b"CS", b"TEXT"))
    tail = (struct.pack("<HHI", 0xFFFE, 0xE00D, 0) + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)) * depth
    return b"".join(head) + tail


def deep_file(depth):
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"   # Basic Text SR
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "SR"
    ds.PatientName = "Deep^Nesting"
    ds.PatientID = "DEEP%d" % depth
    ds.ValueType = "CONTAINER"
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    out = io.BytesIO()
    pydicom.dcmwrite(out, ds, write_like_original=False)
    return out.getvalue() + nested_content(depth)   # (0040,A730) is the last attribute


def depth_of(data):
    ds = pydicom.dcmread(io.BytesIO(data))
    depth, item = 0, ds
    while "ContentSequence" in item:
        depth += 1
        item = item.ContentSequence[0]
    return ds, depth


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return make_keys(str(tmp_path_factory.mktemp("deep-keys")), "custodian")


@pytest.fixture(scope="module")
def server(start_orthanc, keys):
    return start_orthanc({"Deidentification": {
        "EnableReidentification": True,
        "Recipients": {"custodian": keys[1]},
        "Profiles": {"reversible": {"Options": [], "Recipients": ["custodian"]}},
    }}, name="deep")


def key_headers(keys):
    with open(keys[0], "rb") as f:
        return {"X-Deidentification-Private-Key": base64.b64encode(f.read()).decode()}


def assert_alive(server):
    assert server.process.poll() is None, server.read_log()[-3000:]
    assert server.get("/system").status_code == 200


def assert_too_deep(response):
    assert response.status_code == 400, response.text[:500]
    assert "nested more than %d levels" % MAXIMUM in response.json()["Details"]


def test_tools_deidentify_at_every_depth(server):
    for depth in DEPTHS:
        r = server.post("/tools/deidentify", deep_file(depth), check=False)
        if depth <= MAXIMUM:
            assert r.status_code == 200, r.text[:500]
            ds, found = depth_of(r.content)
            assert found == depth
            assert ds.PatientIdentityRemoved == "YES" and ds.PatientID != "DEEP%d" % depth
        else:
            assert_too_deep(r)
        assert_alive(server)


def test_tools_reidentify_at_every_depth(server, keys):
    for depth in DEPTHS:
        source = deep_file(depth)
        if depth <= MAXIMUM:
            protected = server.post("/tools/deidentify", source,
                                    headers={"X-Deidentification-Profile": "reversible"}).content
            r = server.post("/tools/reidentify", protected, headers=key_headers(keys))
            ds, found = depth_of(r.content)
            assert found == depth and ds.PatientID == "DEEP%d" % depth
        else:
            assert_too_deep(server.post("/tools/reidentify", source, check=False, headers=key_headers(keys)))
        assert_alive(server)


def test_stored_instance_routes(server, keys):
    """Orthanc itself stores up to about 46 levels through POST /instances
    (deeper, its own parser crashes): 30 works everywhere, 40 is refused by
    every route of the plugin, and nothing deeper than the maximum is stored."""
    for depth in (30, 40):
        source = server.upload(deep_file(depth))
        assert source is not None
        instance, study = source["ID"], source["ParentStudy"]
        ok = depth <= MAXIMUM
        before = server.get_json("/statistics")["CountInstances"]

        r = server.post("/instances/%s/deidentify" % instance, {}, check=False)
        if ok:
            assert depth_of(r.content)[1] == depth
        else:
            assert_too_deep(r)
        for path, body in (("/instances/%s/deidentify" % instance, {"Store": True}),
                           ("/instances/%s/deidentify/preview" % instance, {})):
            r = server.post(path, body, check=False)
            if ok:
                assert r.status_code == 200, r.text[:500]
            else:
                assert_too_deep(r)
        answer = server.post_json("/studies/%s/deidentify" % study, {"Synchronous": True})
        assert answer["FailedInstancesCount"] == (0 if ok else 1)
        key = {"PrivateKey": open(keys[0]).read(), "Synchronous": True}
        for path, body in (("/instances/%s/reidentify" % instance, {"PrivateKey": key["PrivateKey"]}),
                           ("/studies/%s/reidentify" % study, key)):
            r = server.post(path, body, check=False)
            assert r.status_code == 400   # no Encrypted Attributes Sequence, or too deep
            if not ok:
                assert "nested more than %d levels" % MAXIMUM in r.json()["Details"]
        if not ok:
            assert server.get_json("/statistics")["CountInstances"] == before
        assert_alive(server)

    # A de-identified copy with the Encrypted Attributes Sequence, re-identified and stored.
    source = server.upload(deep_file(30))
    copy = server.post_json("/instances/%s/deidentify" % source["ID"], {"Profile": "reversible", "Store": True})
    stored = server.post_json("/instances/%s/reidentify" % copy["ID"],
                              {"PrivateKey": open(keys[0]).read(), "Store": True})
    ds, found = depth_of(server.get("/instances/%s/file" % stored["ID"]).content)
    assert found == 30 and ds.PatientID == "DEEP30"
    assert_alive(server)


def test_configured_maximum(start_orthanc):
    server = start_orthanc({"Deidentification": {"MaximumNestingDepth": 10}}, name="depth10")
    try:
        assert server.post("/tools/deidentify", deep_file(10)).status_code == 200
        r = server.post("/tools/deidentify", deep_file(11), check=False)
        assert r.status_code == 400 and "nested more than 10 levels" in r.json()["Details"]
    finally:
        server.stop()
    failed = start_orthanc({"Deidentification": {"MaximumNestingDepth": 41}}, name="depth41", expect_failure=True)
    assert failed.returncode != 0 and "MaximumNestingDepth" in failed.read_log()
