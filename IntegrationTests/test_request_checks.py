"""Caller text in errors and logs is escaped and bounded (no forged log
lines, no echo of megabytes), and unknown keys in request bodies and
X-Deidentification-* headers are a 400 naming the key."""

import os

import pytest

from conftest import PYDICOM_TEST_FILES

CT = os.path.join(PYDICOM_TEST_FILES, "CT_small.dcm")
HOSTILE = ["evil\nW1127 00:00:00 forged log line", "carriage\rreturn", "escape\x1b[31mred\x1b[0m",
           "M" * (1024 * 1024)]


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


@pytest.fixture(scope="module")
def instance(orthanc):
    return orthanc.upload(CT)


def assert_safe(text, limit=600):
    assert len(text) < limit, len(text)
    assert not any(ord(c) < 0x20 for c in text), repr(text[:200])


def test_hostile_profile_names_are_escaped_and_bounded(orthanc, instance):
    for name in HOSTILE:
        for path in ("/instances/%s/deidentify" % instance["ID"], "/studies/%s/deidentify" % instance["ParentStudy"],
                     "/instances/%s/deidentify/preview" % instance["ID"]):
            r = orthanc.post(path, {"Profile": name}, check=False)
            assert r.status_code == 400
            details = r.json()["Details"]
            assert_safe(details)
            assert "Unknown de-identification profile" in details
        if name.startswith("evil"):
            assert "evil\\nW1127" in details
        elif name.startswith("carriage"):
            assert "carriage\\rreturn" in details
        elif name.startswith("escape"):
            assert "escape\\x1b[31mred" in details
        else:
            assert "M" * 64 + "..." in details

    # civetweb itself refuses headers holding control characters (even a
    # tab) or over 8 KB: long ones are left
    for header in ("X-Deidentification-Profile", "X-Deidentification-Options", "X-Deidentification-Project"):
        r = orthanc.post("/tools/deidentify", read_bytes(CT), check=False, headers={header: "H" * 4000})
        assert r.status_code == 400
        assert_safe(r.json()["Details"])
        assert "H" * 64 + "..." in r.json()["Details"]

    # Orthanc's log holds the escaped, bounded text only
    log = orthanc.read_log()
    assert "forged log line" in log and "\nW1127 00:00:00 forged log line" not in log
    assert "\x1b[31m" not in log and "carriage\rreturn" not in log
    assert "M" * 200 not in log and "H" * 200 not in log
    for line in log.splitlines():
        if "Unknown de-identification" in line:
            assert_safe(line, 2500)


def test_hostile_option_and_project_names(orthanc, instance):
    path = "/instances/%s/deidentify" % instance["ID"]
    r = orthanc.post(path, {"Options": ["Retain\nEverything" + "x" * 5000]}, check=False)
    assert r.status_code == 400
    assert_safe(r.json()["Details"])
    assert "Retain\\nEverything" in r.json()["Details"]
    r = orthanc.post(path, {"Project": "p\r\n" + "y" * 100000}, check=False)
    assert r.status_code == 400
    assert_safe(r.json()["Details"])


def test_unknown_keys_are_400(orthanc, instance):
    cases = [
        ("/studies/%s/deidentify" % instance["ParentStudy"], {"Optoins": ["RetainUIDs"]}),
        ("/series/%s/deidentify" % instance["ParentSeries"], {"Synchronous": True, "Store": True}),
        ("/instances/%s/deidentify" % instance["ID"], {"Optoins": ["RetainUIDs"]}),
        ("/instances/%s/deidentify" % instance["ID"], {"KeepSource": False}),
        ("/instances/%s/deidentify/preview" % instance["ID"], {"Profil": "basic"}),
    ]
    before = len(orthanc.get_json("/jobs"))
    for path, body in cases:
        r = orthanc.post(path, body, check=False)
        assert r.status_code == 400, (path, r.text)
        unknown = [k for k in body if k not in ("Synchronous",)][0]
        assert 'Unknown key "%s"' % unknown in r.json()["Details"]
        assert "known keys" in r.json()["Details"]
    assert len(orthanc.get_json("/jobs")) == before   # nothing ran with the default profile

    r = orthanc.post("/instances/%s/deidentify" % instance["ID"], {"Opt\nions" + "z" * 1000: 1}, check=False)
    assert r.status_code == 400 and 'Unknown key "Opt\\nions' in r.json()["Details"]
    assert_safe(r.json()["Details"])

    r = orthanc.post("/tools/deidentify", read_bytes(CT), check=False,
                     headers={"X-Deidentification-Optoins": "RetainUIDs"})
    assert r.status_code == 400 and "x-deidentification-optoins" in r.json()["Details"]


def test_unknown_keys_of_reidentification_routes(start_orthanc):
    server = start_orthanc({"Deidentification": {"EnableReidentification": True}}, name="reidkeys")
    try:
        instance = server.upload(CT)
        for path, body in (("/instances/%s/reidentify" % instance["ID"], {"PrivateKey": "x", "Stroe": True}),
                           ("/studies/%s/reidentify" % instance["ParentStudy"], {"Synchronus": True})):
            r = server.post(path, body, check=False)
            assert r.status_code == 400 and "Unknown key" in r.json()["Details"], r.text
        r = server.post("/tools/reidentify", read_bytes(CT), check=False,
                        headers={"X-Deidentification-Privatekey": "abc"})
        assert r.status_code == 400 and "x-deidentification-privatekey" in r.json()["Details"]
    finally:
        server.stop()
