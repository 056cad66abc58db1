"""Deidentification.CallerPolicy: by default callers may name any configured
profile, add only CleanPixelData and CleanRecognizableVisualFeatures (every
other option keeps more than the Basic Profile), and use only the project,
recipients and cipher of their profile (or AES256). Anything else is a 403
naming what was refused, audited with status "Refused"; a configured list
allows exactly its entries, "*" everything."""

import os

import pytest

from conftest import PYDICOM_TEST_FILES, TABLE_OPTIONS
from test_encrypted_attributes import make_keys

CT = os.path.join(PYDICOM_TEST_FILES, "CT_small.dcm")
CLEANING = ["CleanPixelData", "CleanRecognizableVisualFeatures"]   # keep less than the Basic Profile


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("policy-keys"))
    return {name: make_keys(directory, name)[1] for name in ("custodian", "auditor")}


def section(certificates, policy):
    return {"Deidentification": {
        "CallerPolicy": policy,
        "Projects": {"trial": {}, "other": {}},
        "Recipients": certificates,
        "Profiles": {
            "trialprofile": {"Options": ["RetainUIDs"], "Project": "trial"},
            "reversible": {"Options": [], "Recipients": ["custodian"], "Cipher": "AES128"},
        },
    }}


@pytest.fixture(scope="module")
def server(start_orthanc, certificates):
    """The secure default: no CallerPolicy in the configuration."""
    server = start_orthanc(section(certificates, None), name="policy-default")
    server.ct = server.upload(CT)
    yield server
    server.stop()


def assert_refused(response, *names):
    assert response.status_code == 403, response.text[:500]
    details = response.json()["Details"]
    assert details.startswith("Refused by the caller policy")
    for name in names:
        assert name in details, details


def test_default_refuses_each_option_that_keeps_more(server):
    instance = server.ct["ID"]
    for option in TABLE_OPTIONS:
        assert_refused(server.post("/instances/%s/deidentify" % instance, {"Options": [option]}, check=False),
                       option, "CallerPolicy.Options")
        assert_refused(server.post("/tools/deidentify", read_bytes(CT), check=False,
                                   headers={"X-Deidentification-Options": option}), option)
    # every caller route, with a CID 7050 code too (113110: RetainUIDs)
    for path in ("/studies/%s/deidentify" % server.ct["ParentStudy"],
                 "/series/%s/deidentify" % server.ct["ParentSeries"],
                 "/patients/%s/deidentify" % server.ct["ParentPatient"],
                 "/instances/%s/deidentify/preview" % instance):
        assert_refused(server.post(path, {"Options": ["113110"], "Synchronous": True}
                                   if "preview" not in path else {"Options": ["113110"]}, check=False), "RetainUIDs")
    assert server.get_json("/jobs") == []   # nothing ran


def test_default_allows_the_cleaning_options_and_the_profiles_own(server):
    instance = server.ct["ID"]
    # not 403: CleanPixelData runs (a CT is not expected to carry burned-in
    # text); CleanRecognizableVisualFeatures runs too, and refuses this CT
    # (no body part, 85 mm field of view: possibly a head) because its series
    # of one slice cannot be defaced (IntegrationTests/test_recognizable_visual_features.py).
    for option in CLEANING:
        r = server.post("/instances/%s/deidentify" % instance, {"Options": [option]}, check=False)
        if option == "CleanPixelData":
            assert r.status_code == 200, r.text
        else:
            details = r.json()["Details"]
            assert r.status_code == 400 and "Clean Recognizable Visual Features" in details, r.text
            assert "whole series" in details and "policy" not in details.lower(), details
    # any configured profile, with its own options (repeating them is no addition)
    for body in ({"Profile": "trialprofile"}, {"Profile": "trialprofile", "Options": ["RetainUIDs"]},
                 {"Profile": "Basic"}, {}):
        assert server.post("/instances/%s/deidentify" % instance, body).status_code == 200


def test_default_projects(server):
    instance = server.ct["ID"]
    assert_refused(server.post("/instances/%s/deidentify" % instance, {"Project": "trial"}, check=False),
                   '"trial"', "CallerPolicy.Projects")
    assert_refused(server.post("/tools/deidentify", read_bytes(CT), check=False,
                               headers={"X-Deidentification-Project": "other"}), '"other"')
    assert_refused(server.post("/instances/%s/deidentify" % instance,
                               {"Profile": "trialprofile", "Project": "default"}, check=False), '"default"')
    # the project of the profile, named or not
    assert server.post("/instances/%s/deidentify" % instance, {"Project": "default"}).status_code == 200
    assert server.post("/instances/%s/deidentify" % instance,
                       {"Profile": "trialprofile", "Project": "trial"}).status_code == 200


def test_default_recipients_and_ciphers(server):
    instance = server.ct["ID"]
    path = "/instances/%s/deidentify" % instance
    # another recipient could re-identify: refused
    assert_refused(server.post(path, {"Recipients": ["auditor"]}, check=False), '"auditor"', "Recipients")
    assert_refused(server.post(path, {"Profile": "reversible", "Recipients": ["custodian", "auditor"]},
                               check=False), '"auditor"')
    assert_refused(server.post("/tools/deidentify", read_bytes(CT), check=False,
                               headers={"X-Deidentification-Recipients": "auditor"}), '"auditor"')
    # a weaker cipher than the profile's: refused; the profile's own or AES256: allowed
    assert_refused(server.post(path, {"Profile": "reversible", "Cipher": "TripleDES"}, check=False),
                   "TripleDES", "Ciphers")
    for body in ({"Profile": "reversible", "Recipients": ["custodian"]},
                 {"Profile": "reversible", "Cipher": "AES128"}, {"Profile": "reversible", "Cipher": "AES256"},
                 {"Profile": "reversible", "Recipients": []}):
        assert server.post(path, body).status_code == 200, body


def test_refusals_are_audited(server):
    server.post("/instances/%s/deidentify" % server.ct["ID"], {"Options": ["RetainDeviceIdentity"]}, check=False)
    records = server.get_json("/deidentification/audit?limit=1000")["Records"]
    refused = [r for r in records if r["Status"] == "Refused"]
    assert refused, records[-3:]
    last = refused[-1]
    assert "RetainDeviceIdentity" in last["Details"]["Reason"]
    assert last["Route"] == "POST /instances/%s/deidentify" % server.ct["ID"]
    assert last["Caller"]["RemoteIP"] == "127.0.0.1"
    assert last["Result"] == []
    assert any("Recipients" in r["Details"]["Reason"] for r in refused)
    assert any("Projects" in r["Details"]["Reason"] for r in refused)
    assert "refused by the caller policy" in server.read_log()


def test_configured_lists_allow_exactly_their_entries(start_orthanc, certificates):
    policy = {"Profiles": ["basic"], "Options": ["RetainUIDs", "113105"], "Projects": ["trial"],
              "Recipients": ["auditor"], "Ciphers": ["TripleDES"]}
    server = start_orthanc(section(certificates, policy), name="policy-lists")
    try:
        path = "/instances/%s/deidentify" % server.upload(CT)["ID"]
        for body in ({"Options": ["RetainUIDs", "CleanDescriptors"]}, {"Project": "trial"},
                     {"Profile": "basic"}, {"Recipients": ["auditor"], "Cipher": "TripleDES"}):
            assert server.post(path, body).status_code == 200, body
        assert_refused(server.post(path, {"Options": ["RetainDeviceIdentity"]}, check=False), "RetainDeviceIdentity")
        assert_refused(server.post(path, {"Options": ["CleanPixelData"]}, check=False), "CleanPixelData")
        assert_refused(server.post(path, {"Project": "other"}, check=False), '"other"')
        assert_refused(server.post(path, {"Profile": "trialprofile"}, check=False), '"trialprofile"', "Profiles")
        assert_refused(server.post(path, {"Recipients": ["custodian"]}, check=False), '"custodian"')
        assert_refused(server.post(path, {"Profile": "reversible", "Cipher": "AES128"}, check=False), '"reversible"')
    finally:
        server.stop()


def test_star_allows_everything(start_orthanc, certificates):
    for policy in ("*", {"Options": "*", "Projects": "*", "Recipients": "*", "Ciphers": "*", "Profiles": "*"}):
        server = start_orthanc(section(certificates, policy), name="policy-star")
        try:
            data = read_bytes(CT)
            for option in TABLE_OPTIONS:
                assert server.post("/tools/deidentify", data, headers={"X-Deidentification-Options": option,
                                                                       "X-Deidentification-Project": "other"}
                                   ).status_code == 200, option
            assert server.post("/tools/deidentify", data, headers={"X-Deidentification-Recipients": "auditor",
                                                                   "X-Deidentification-Cipher": "TripleDES"}
                               ).status_code == 200
        finally:
            server.stop()


@pytest.mark.parametrize("policy,message", [
    ({"Optoins": "*"}, "Optoins"),
    ({"Options": ["RetainEverything"]}, "RetainEverything"),
    ({"Projects": ["nope"]}, "nope"),
    ({"Profiles": ["nope"]}, "nope"),
    ({"Ciphers": ["RC4"]}, "RC4"),
    ("all", "CallerPolicy"),
])
def test_bad_policy_refuses_to_start(start_orthanc, certificates, policy, message):
    server = start_orthanc(section(certificates, policy), name="policy-bad", expect_failure=True)
    assert server.returncode != 0
    assert "CallerPolicy" in server.read_log() and message in server.read_log()
