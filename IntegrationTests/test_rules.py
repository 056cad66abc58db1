"""Rules per destination through a real Orthanc: POST /deidentification/rules/test
on uploaded and stored instances, JSON rules and the equivalent Lua script over
the same table of cases (UnitTests/RulesTable, shared with the unit tests),
unknown destinations, fail-closed default and "Uncovered", bad configurations."""

import copy
import io
import json
import os
import subprocess

import pydicom
import pytest
from pydicom.uid import generate_uid

from conftest import PLUGIN, PYDICOM_TEST_FILES, ROOT

TABLE = os.path.join(ROOT, "UnitTests", "RulesTable")
DICOMWEB_PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"

with open(os.path.join(TABLE, "rules.json")) as f:
    JSON_RULES = json.load(f)
with open(os.path.join(TABLE, "cases.json")) as f:
    CASES = json.load(f)


def destinations_config():
    config = {
        "DicomModalities": {name: [name, "127.0.0.1", 1] for name in ("TRIAL1", "TRIAL2", "PACS")},
        "OrthancPeers": {name: {"Url": "http://127.0.0.1:1/"} for name in ("REGISTRY", "REGISTRY2")},
        "Deidentification": {"Projects": {"trial": {}}},
    }
    if os.path.exists(DICOMWEB_PLUGIN):
        config["Plugins"] = [PLUGIN, DICOMWEB_PLUGIN]
        config["DicomWeb"] = {"Enable": True, "Servers": {"REGISTRY": ["http://127.0.0.1:1/dicom-web/"]}}
    return config


def with_rules(rules):
    config = destinations_config()
    config["Deidentification"]["Rules"] = rules
    return config


@pytest.fixture(scope="module")
def json_orthanc(start_orthanc):
    return start_orthanc(with_rules(JSON_RULES), name="rules-json")


@pytest.fixture(scope="module")
def lua_orthanc(start_orthanc):
    config = with_rules({"LuaScript": os.path.join(TABLE, "rules.lua")})
    if "DicomWeb" in config:
        config["DicomWeb"]["Root"] = "/web/"   # the DICOMweb servers are looked up under the configured root
    return start_orthanc(config, name="rules-lua")


def make_instance(tags, study_uid=None, patient_id="RULES-PATIENT-1"):
    """CT_small.dcm with the given attributes (keyword -> value) and fresh UIDs."""
    ds = pydicom.dcmread(os.path.join(PYDICOM_TEST_FILES, "CT_small.dcm"))
    for keyword in ("Manufacturer", "StationName"):
        if keyword in ds:
            delattr(ds, keyword)
    for keyword, value in tags.items():
        setattr(ds, keyword, value)
    ds.PatientID = patient_id
    ds.StudyInstanceUID = study_uid or generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    out = io.BytesIO()
    ds.save_as(out, write_like_original=False)
    return out.getvalue()


def headers_for(destination, origin=None):
    headers = {"Content-Type": "application/dicom",
               "X-Deidentification-Destination-Kind": destination["Kind"]}
    if destination.get("Name"):
        headers["X-Deidentification-Destination-Name"] = destination["Name"]
    names = {"Kind": "Kind", "RemoteAet": "Remote-Aet", "CalledAet": "Called-Aet", "RemoteIp": "Remote-Ip"}
    for key, value in (origin or {}).items():
        headers["X-Deidentification-Origin-" + names[key]] = value
    return headers


def ask(orthanc, case):
    return orthanc.post_json("/deidentification/rules/test", make_instance(case["Tags"]),
                             headers=headers_for(case["Destination"], case.get("Origin")))


def check_expected(answer, expected, label):
    assert answer["InstancesCount"] == 1, label
    assert len(answer["Decisions"]) == 1, label
    decision = answer["Decisions"][0]
    assert answer["Allowed"] == expected["Allowed"], (label, decision)
    assert decision["Allowed"] == expected["Allowed"], (label, decision)
    assert decision["Rule"] == expected["Rule"], (label, decision)
    assert decision["Profile"] == expected.get("Profile", ""), (label, decision)
    assert decision["Options"] == expected.get("Options", []), (label, decision)
    assert decision["Project"] == expected.get("Project", ""), (label, decision)
    assert decision["Recipients"] == [], (label, decision)
    if expected["Allowed"]:
        assert decision["Effective"]["Profile"] == expected.get("Profile", "basic"), (label, decision)
    return decision


def test_json_and_lua_rules_give_the_same_decisions(json_orthanc, lua_orthanc):
    checked = 0
    for case in CASES:
        if case["Destination"]["Kind"] == "DicomWeb" and not os.path.exists(DICOMWEB_PLUGIN):
            continue
        from_json = check_expected(ask(json_orthanc, case), case["Expected"], "JSON: " + case["Case"])
        from_lua = check_expected(ask(lua_orthanc, case), case["Expected"], "Lua: " + case["Case"])
        for key in ("Allowed", "Rule", "Profile", "Options", "Recipients", "Project", "Effective"):
            assert from_json.get(key) == from_lua.get(key), (case["Case"], key)
        # No value of the instance in a reason: attribute names and configured patterns only.
        origin = {k: v for k, v in case.get("Origin", {}).items() if k != "Kind"}
        for value in list(case["Tags"].values()) + list(origin.values()):
            if len(value) >= 3:
                assert value not in from_json["Reason"] and value not in from_lua["Reason"], case["Case"]
        checked += 1
    assert checked >= len(CASES) - 1


def test_configured_rules_are_listed(json_orthanc, lua_orthanc):
    assert json_orthanc.get_json("/deidentification/rules") == JSON_RULES
    assert lua_orthanc.get_json("/deidentification/rules") == {
        "List": [], "LuaScript": os.path.join(TABLE, "rules.lua"), "Uncovered": "Refuse"}


def test_json_reason_names_the_rule_and_what_matched(json_orthanc):
    case = CASES[0]
    decision = ask(json_orthanc, case)["Decisions"][0]
    assert decision["Reason"] == ('rule "trial-ct": Destination Modality TRIAL*, Origin DicomProtocol, '
                                  'RemoteAet CT?, Modality CT, Manufacturer SIEMENS*')


def test_stored_resource_gives_distinct_decisions_with_counts(json_orthanc):
    study_uid = generate_uid()
    ids = {}
    for label, tags in (("ct-siemens-1", {"Modality": "CT", "Manufacturer": "SIEMENS"}),
                        ("ct-siemens-2", {"Modality": "CT", "Manufacturer": "SIEMENS Healthineers"}),
                        ("mr-ge", {"Modality": "MR", "Manufacturer": "GE MEDICAL SYSTEMS"}),
                        ("sr", {"Modality": "SR"})):
        ids[label] = json_orthanc.upload(make_instance(tags, study_uid))["ID"]
    study = json_orthanc.get_json("/instances/%s/study" % ids["sr"])["ID"]
    before = json_orthanc.get_json("/statistics")

    # As if the study had come by C-STORE from CT1.
    answer = json_orthanc.post_json("/deidentification/rules/test", {
        "Resource": study, "Destination": {"Modality": "TRIAL1"},
        "Origin": {"Kind": "DicomProtocol", "RemoteAet": "CT1"}})
    assert answer["Resource"] == {"ID": study, "Type": "Study"}
    assert answer["InstancesCount"] == 4
    assert answer["Allowed"] is False
    by_rule = {d["Rule"]: d for d in answer["Decisions"]}
    assert sorted(by_rule) == ["no-sr-to-modalities", "trial-ct", "trial-images"]
    assert by_rule["trial-ct"]["InstancesCount"] == 2
    assert by_rule["trial-ct"]["ExampleInstance"] in (ids["ct-siemens-1"], ids["ct-siemens-2"])
    assert by_rule["trial-ct"]["Effective"]["Profile"] == "research"
    assert "RetainDeviceIdentity" in by_rule["trial-ct"]["Effective"]["Options"]
    assert "CleanDescriptors" in by_rule["trial-ct"]["Effective"]["Options"]   # from the profile
    assert by_rule["trial-images"]["InstancesCount"] == 1
    assert by_rule["trial-images"]["ExampleInstance"] == ids["mr-ge"]
    assert by_rule["no-sr-to-modalities"]["InstancesCount"] == 1
    assert by_rule["no-sr-to-modalities"]["Allowed"] is False
    assert by_rule["no-sr-to-modalities"]["ExampleInstance"] == ids["sr"]

    # Without "Origin", the instances' own origin: uploaded through the REST API.
    answer = json_orthanc.post_json("/deidentification/rules/test", {
        "Resource": ids["ct-siemens-1"], "Destination": {"Modality": "TRIAL1"}})
    assert answer["Resource"]["Type"] == "Instance"
    assert answer["Allowed"] is True
    assert [d["Rule"] for d in answer["Decisions"]] == ["trial-images"]

    # Series level, nothing was done.
    series = json_orthanc.get_json("/instances/%s/series" % ids["mr-ge"])["ID"]
    answer = json_orthanc.post_json("/deidentification/rules/test",
                                    {"Resource": series, "Destination": {"Store": True}})
    assert answer["Resource"]["Type"] == "Series" and answer["Allowed"] is True
    assert answer["Decisions"][0]["Rule"] == "keep-copy"
    assert json_orthanc.get_json("/statistics")["CountInstances"] == before["CountInstances"]


def test_origin_of_a_c_store_comes_from_the_instance_metadata(json_orthanc, tmp_path):
    path = tmp_path / "ct.dcm"
    path.write_bytes(make_instance({"Modality": "CT", "Manufacturer": "SIEMENS"}))
    subprocess.run(["storescu", "-aet", "CT7", "-aec", "DEIDTEST", "127.0.0.1", str(json_orthanc.dicom_port),
                    str(path)], check=True, capture_output=True, timeout=60)
    sop = pydicom.dcmread(str(path)).SOPInstanceUID
    found = json_orthanc.post_json("/tools/lookup", sop)
    instance = [r["ID"] for r in found if r["Type"] == "Instance"][0]
    answer = json_orthanc.post_json("/deidentification/rules/test", {
        "Resource": instance, "Destination": {"Modality": "TRIAL2"}})
    assert [d["Rule"] for d in answer["Decisions"]] == ["trial-ct"]
    assert "CT7" not in answer["Decisions"][0]["Reason"]


def test_unknown_destinations_and_bad_requests(json_orthanc):
    instance = json_orthanc.upload(make_instance({"Modality": "CT"}))["ID"]

    def post(body, **kwargs):
        return json_orthanc.post("/deidentification/rules/test", body, check=False, **kwargs)

    for destination, text in (({"Modality": "NOWHERE"}, 'modality "NOWHERE"'),
                              ({"Peer": "NOPEER"}, 'peer "NOPEER"'),
                              ({"DicomWeb": "NOSERVER"}, 'DICOMweb server "NOSERVER"')):
        r = post({"Resource": instance, "Destination": destination})
        assert r.status_code == 404, (destination, r.text)
        assert text in r.json()["Details"]
    r = post(make_instance({"Modality": "CT"}), headers=headers_for({"Kind": "Modality", "Name": "NOWHERE"}))
    assert r.status_code == 404 and 'modality "NOWHERE"' in r.json()["Details"]

    for body in ({"Resource": instance, "Destination": {"Modality": "PACS"}, "Extra": 1},
                 {"Resource": instance, "Destination": {"Printer": "X"}},
                 {"Resource": instance, "Destination": {"Modality": "PACS", "Peer": "REGISTRY"}},
                 {"Resource": instance},
                 {"Resource": "../../system", "Destination": {"Store": True}},
                 {"Resource": instance, "Destination": {"Store": True}, "Origin": {"Kind": "Fax"}}):
        r = post(body)
        assert r.status_code == 400, (body, r.text)
    r = post({"Resource": "0" * 8 + "-" + "0" * 8, "Destination": {"Store": True}})
    assert r.status_code == 404
    r = post(b"not dicom" * 30, headers=headers_for({"Kind": "Store"}))
    assert r.status_code == 400


def test_uncovered_refused_by_default_and_allowed_when_configured(json_orthanc, start_orthanc):
    case = {"Destination": {"Kind": "Modality", "Name": "PACS"}, "Tags": {"Modality": "CT"}}
    answer = ask(json_orthanc, case)
    assert answer["Allowed"] is False
    assert answer["Decisions"][0]["Reason"] == ('no rule covers Modality "PACS" '
                                               '(Deidentification.Rules.Uncovered is "Refuse")')

    # No rules at all: everything refused (fail closed).
    bare = start_orthanc(destinations_config(), name="rules-none")
    assert ask(bare, case)["Allowed"] is False

    latin1 = {"Name": "latin1", "Destination": {"Kind": "Ingest"}, "Match": {"StationName": "STÅTION"},
              "Profile": "research"}
    allowing = start_orthanc(with_rules({"List": JSON_RULES["List"] + [latin1], "Uncovered": "Basic"}),
                             name="rules-uncovered")
    answer = ask(allowing, case)
    assert answer["Allowed"] is True
    decision = answer["Decisions"][0]
    assert decision["Rule"] == "" and decision["Profile"] == "Basic"
    assert decision["Effective"] == {"Profile": "Basic", "Options": []}
    # Refusing rules still refuse.
    assert ask(allowing, dict(case, Tags={"Modality": "SR"}))["Allowed"] is False

    # Values in another character set are compared in UTF-8, uploaded or stored.
    ds = pydicom.dcmread(io.BytesIO(make_instance({"Modality": "CT"})))
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.StationName = "STÅTION"
    out = io.BytesIO()
    ds.save_as(out, write_like_original=False)
    assert "STÅTION".encode("latin-1") in out.getvalue()
    answer = allowing.post_json("/deidentification/rules/test", out.getvalue(), headers=headers_for({"Kind": "Ingest"}))
    assert answer["Decisions"][0]["Rule"] == "latin1", answer
    stored = allowing.upload(out.getvalue())["ID"]
    answer = allowing.post_json("/deidentification/rules/test", {"Resource": stored, "Destination": {"Ingest": True}})
    assert answer["Decisions"][0]["Rule"] == "latin1", answer
    bare.stop()
    allowing.stop()


def test_bad_rule_configuration_stops_orthanc(start_orthanc, tmp_path):
    bad_lua = tmp_path / "bad.lua"
    bad_lua.write_text("function DeidentificationRule(tags\n")
    for rules, message in (
            ({"List": [{"Name": "typo", "Match": {"Modalty": "CT"}}]},
             'rule "typo".Match: "Modalty" is neither a DICOM keyword'),
            ({"List": [{"Name": "p", "Profile": "nope"}]}, 'rule "p": Unknown de-identification profile: "nope"'),
            ({"List": [{"Name": "j", "Project": "nope"}]}, 'Unknown de-identification project "nope"'),
            ({"List": [{"Name": "r", "Recipients": ["nobody"]}]}, 'unknown recipient "nobody"'),
            ({"List": [{"Name": "o", "Options": ["NoSuchOption"]}]}, "NoSuchOption"),
            ({"List": [{"Name": "k", "Destination": {"Kind": "Printer"}}]}, 'unknown kind "Printer"'),
            ({"Uncovered": "nope"}, "Deidentification.Rules.Uncovered"),
            ({"LuaScript": str(bad_lua)}, "Deidentification.Rules.LuaScript")):
        server = start_orthanc(with_rules(rules), name="rules-bad", expect_failure=True)
        assert server.returncode != 0
        log = server.read_log()
        assert "bad configuration" in log and message in log, (rules, log[-2000:])


def test_lua_error_refuses_and_is_logged(start_orthanc, tmp_path):
    script = tmp_path / "failing.lua"
    script.write_text('function DeidentificationRule(tags, origin, destination)\n'
                      '  if tags.Modality == "MR" then while true do end end\n'
                      '  error("cannot decide for " .. destination.Name)\n'
                      'end\n')
    server = start_orthanc(with_rules({"LuaScript": str(script), "LuaInstructionLimit": 100000}), name="rules-luaerr")
    answer = ask(server, {"Destination": {"Kind": "Modality", "Name": "PACS"}, "Tags": {"Modality": "CT"}})
    assert answer["Allowed"] is False
    assert "details in the Orthanc log" in answer["Decisions"][0]["Reason"]
    answer = ask(server, {"Destination": {"Kind": "Modality", "Name": "PACS"}, "Tags": {"Modality": "MR"}})
    assert answer["Allowed"] is False
    assert "instruction limit" in answer["Decisions"][0]["Reason"]
    assert "failing.lua:3: cannot decide for PACS" in server.read_log()
    server.stop()


def test_readme_shows_the_tested_rules():
    """The worked JSON and Lua examples of the README are the ones tested here."""
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    for name in ("rules.json", "rules.lua"):
        with open(os.path.join(TABLE, name)) as f:
            assert f.read().strip() in readme, name
