"""The plugin in a real Orthanc: registration, configuration, routes and errors."""

import io
import os

import pydicom
import pytest

from conftest import PYDICOM_TEST_FILES, TABLE_OPTIONS

CT = os.path.join(PYDICOM_TEST_FILES, "CT_small.dcm")


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def test_plugin_is_registered(orthanc):
    assert "deidentification" in orthanc.get_json("/plugins")
    info = orthanc.get_json("/plugins/deidentification")
    assert info["ID"] == "deidentification"


def test_profiles_route_lists_configured_profiles(orthanc):
    profiles = orthanc.get_json("/deidentification/profiles")
    assert set(profiles) >= {"Basic", "basic", "research"}
    assert profiles["basic"]["Default"] is True
    assert profiles["research"]["Default"] is False
    assert profiles["research"]["Options"] == ["RetainPatientCharacteristics", "RetainLongitudinalModifiedDates",
                                               "CleanDescriptors"]
    # CID 7050 codes: the Basic Profile first, then the options
    assert profiles["research"]["MethodCodes"][0] == "113100"
    assert set(profiles["research"]["MethodCodes"][1:]) == {"113108", "113107", "113105"}


def test_options_route(orthanc):
    options = orthanc.get_json("/deidentification/options")
    names = [o["Name"] for o in options]
    assert names[:10] == TABLE_OPTIONS
    assert all(o["Implemented"] for o in options[:10])
    implemented = {o["Name"]: o["Implemented"] for o in options}
    assert implemented["CleanPixelData"] and implemented["CleanRecognizableVisualFeatures"]


@pytest.fixture(scope="module")
def ct_instance(orthanc):
    return orthanc.upload(CT)


def test_unknown_option_is_a_clear_400(orthanc, ct_instance):
    for path in ("/studies/%s/deidentify" % ct_instance["ParentStudy"],
                 "/instances/%s/deidentify" % ct_instance["ID"],
                 "/instances/%s/deidentify/preview" % ct_instance["ID"]):
        r = orthanc.post(path, {"Options": ["CleanDescriptors", "RetainEverything"]}, check=False)
        assert r.status_code == 400, path
        assert "RetainEverything" in r.json()["Details"]
        assert "option" in r.json()["Details"].lower()

    r = orthanc.post("/tools/deidentify", read_bytes(CT), check=False,
                     headers={"X-Deidentification-Options": "RetainEverything"})
    assert r.status_code == 400
    assert "RetainEverything" in r.json()["Details"]


def test_unknown_profile_and_bad_body_are_400(orthanc, ct_instance):
    path = "/series/%s/deidentify" % ct_instance["ParentSeries"]
    r = orthanc.post(path, {"Profile": "nope"}, check=False)
    assert r.status_code == 400 and "nope" in r.json()["Details"]
    r = orthanc.post(path, "not json", check=False)
    assert r.status_code == 400
    r = orthanc.post(path, {"KeepSource": "yes"}, check=False)
    assert r.status_code == 400 and "KeepSource" in r.json()["Details"]


def test_unknown_resource_is_404(orthanc):
    r = orthanc.post("/studies/00000000-00000000-00000000-00000000-00000000/deidentify", {}, check=False)
    assert r.status_code == 404
    r = orthanc.post("/instances/00000000-00000000-00000000-00000000-00000000/deidentify", {}, check=False)
    assert r.status_code == 404


def test_wrong_method_is_405(orthanc, ct_instance):
    r = orthanc.get("/studies/%s/deidentify" % ct_instance["ParentStudy"], check=False)
    assert r.status_code == 405


def test_instance_route_answers_a_file_and_stores_nothing(orthanc, ct_instance):
    before = orthanc.get_json("/statistics")["CountInstances"]
    r = orthanc.post("/instances/%s/deidentify" % ct_instance["ID"], {"Options": ["CleanDescriptors"]})
    assert r.headers["Content-Type"].startswith("application/dicom")
    ds = pydicom.dcmread(io.BytesIO(r.content))
    original = pydicom.dcmread(CT)
    assert ds.PatientIdentityRemoved == "YES"
    assert ds.SOPInstanceUID != original.SOPInstanceUID
    assert ds.PatientID != original.PatientID
    assert "CleanDescriptors" in str(ds.DeidentificationMethod)
    assert orthanc.get_json("/statistics")["CountInstances"] == before


def test_instance_route_with_store(orthanc, ct_instance):
    stored = orthanc.post_json("/instances/%s/deidentify" % ct_instance["ID"], {"Store": True})
    assert stored["ID"] != ct_instance["ID"]
    assert stored["ParentStudy"] != ct_instance["ParentStudy"]
    link = orthanc.get("/instances/%s/metadata/DeidentifiedFrom" % stored["ID"]).text
    assert link == ct_instance["ID"]
    ds = pydicom.dcmread(io.BytesIO(orthanc.get("/instances/%s/file" % stored["ID"]).content))
    assert ds.PatientIdentityRemoved == "YES"


def test_tools_deidentify_with_headers(orthanc):
    original = pydicom.dcmread(CT)
    r = orthanc.post("/tools/deidentify", read_bytes(CT),
                     headers={"X-Deidentification-Options": "RetainUIDs, 113105",
                              "X-Deidentification-Profile": "basic"})
    ds = pydicom.dcmread(io.BytesIO(r.content))
    assert ds.SOPInstanceUID == original.SOPInstanceUID      # RetainUIDs
    assert ds.StudyInstanceUID == original.StudyInstanceUID
    codes = [item.CodeValue for item in ds.DeidentificationMethodCodeSequence]
    assert set(codes) == {"113100", "113110", "113105"}

    r = orthanc.post("/tools/deidentify", read_bytes(CT))
    ds = pydicom.dcmread(io.BytesIO(r.content))
    assert ds.SOPInstanceUID != original.SOPInstanceUID


def test_tools_deidentify_truncated_body_is_a_clear_400(orthanc):
    data = read_bytes(CT)
    for body in (data[:len(data) // 3], data[:200], b"", b"not a dicom file at all" * 10):
        r = orthanc.post("/tools/deidentify", body, check=False)
        assert r.status_code == 400
        details = r.json()["Details"]
        assert "uploaded file" in details and "DICOM" in details
        # no patient value in the message
        assert "CompressedSamples" not in details and "1CT1" not in details


def test_preview_lists_touched_elements_without_storing(orthanc, ct_instance):
    before = orthanc.get_json("/statistics")["CountInstances"]
    changes = orthanc.post_json("/instances/%s/deidentify/preview" % ct_instance["ID"], {})
    assert orthanc.get_json("/statistics")["CountInstances"] == before
    by_name = {c["Name"]: c for c in changes}
    original = pydicom.dcmread(CT)
    name = by_name["PatientName"]
    assert name["Tag"] == "(0010,0010)"
    assert name["Before"] == str(original.PatientName)
    assert name["After"] != name["Before"]
    assert by_name["SOPInstanceUID"]["Action"] == "U"
    base = {"Tag", "Name", "Path", "Action", "Option", "Before", "After"}
    assert all(base <= set(c) <= base | {"Reason"} for c in changes)
    # The IOD decided the combined action (PS3.3 Type of the attribute in the CT Image IOD).
    assert by_name["InstitutionName"]["Action"] == "X"
    assert by_name["InstitutionName"]["Reason"] == "X/Z/D\u2192X: Type 3 in General Equipment"

    with_option = orthanc.post_json("/instances/%s/deidentify/preview" % ct_instance["ID"],
                                    {"Options": ["RetainUIDs"]})
    sop = [c for c in with_option if c["Name"] == "SOPInstanceUID"]
    assert not sop or sop[0]["Option"] == "RetainUIDs"


def test_job_answer_and_content(orthanc, ct_instance):
    answer = orthanc.post_json("/studies/%s/deidentify" % ct_instance["ParentStudy"], {"Priority": 3})
    assert set(answer) == {"ID", "Path"} and answer["Path"] == "/jobs/" + answer["ID"]
    job = orthanc.wait_for_job(answer["ID"])
    assert job["State"] == "Success", job
    assert job["Type"] == "Deidentification"
    assert job["Priority"] == 3
    assert job["Progress"] == 100
    content = job["Content"]
    assert content["InstancesCount"] == 1 and content["FailedInstancesCount"] == 0
    assert content["Level"] == "Study" and content["Source"] == ct_instance["ParentStudy"]
    new_study = content["Resources"][0]["ID"]
    assert new_study != ct_instance["ParentStudy"]
    instances = orthanc.get_json("/studies/%s/instances" % new_study)
    assert len(instances) == 1
    metadata = orthanc.get_json("/instances/%s/metadata?expand" % instances[0]["ID"])
    assert metadata["DeidentifiedFrom"] == ct_instance["ID"]
    assert metadata["DeidentificationJob"] == answer["ID"]
    # the source is kept by default
    orthanc.get("/studies/%s" % ct_instance["ParentStudy"])


def test_synchronous_answer_like_anonymize(orthanc, ct_instance):
    for level, key in (("patients", "ParentPatient"), ("studies", "ParentStudy"), ("series", "ParentSeries")):
        answer = orthanc.post_json("/%s/%s/deidentify" % (level, ct_instance[key]), {"Synchronous": True})
        assert answer["Type"] == {"patients": "Patient", "studies": "Study", "series": "Series"}[level]
        assert answer["Path"] == "/%s/%s" % (level, answer["ID"])
        assert answer["ID"] != ct_instance[key]
        assert answer["InstancesCount"] == 1 and answer["FailedInstancesCount"] == 0
        patient = orthanc.get_json("/patients/%s" % answer["PatientID"])
        assert patient["ID"] == answer["PatientID"] != ct_instance["ParentPatient"]


def test_bad_configuration_refuses_to_start(start_orthanc):
    cases = [
        ({"Deidentification": {"Profiles": {"x": {"Options": ["RetainNothing"]}}}}, "RetainNothing"),
        ({"Deidentification": {"DefaultProfile": "missing"}}, "missing"),
        ({"Deidentification": {"SourceMetadata": "Undeclared"}}, "UserMetadata"),
        ({"Deidentification": {"Enable": "yes"}}, "Enable"),
        ({"Deidentification": {"ThreadsPerJob": 0}}, "ThreadsPerJob"),
    ]
    for extra, expected in cases:
        server = start_orthanc(extra, name="badconfig", expect_failure=True)
        assert server.returncode != 0
        log = server.read_log()
        assert "De-identification plugin" in log and expected in log, log[-3000:]


def test_disabled_plugin_registers_no_route(start_orthanc):
    server = start_orthanc({"Deidentification": {"Enable": False}}, name="disabled")
    try:
        assert "deidentification" in server.get_json("/plugins")
        assert server.get("/deidentification/profiles", check=False).status_code == 404
    finally:
        server.stop()


def test_documented_defaults_without_section(start_orthanc):
    server = start_orthanc({"Deidentification": None, "UserMetadata": {}}, name="defaults")
    try:
        server.config.pop("Deidentification", None)
        profiles = server.get_json("/deidentification/profiles")
        assert list(profiles) == ["Basic"] and profiles["Basic"]["Default"] is True
        instance = server.upload(CT)
        answer = server.post_json("/studies/%s/deidentify" % instance["ParentStudy"], {"Synchronous": True})
        new = server.get_json("/studies/%s/instances" % answer["ID"])[0]["ID"]
        # the default link metadata is the numeric index 4601 when the name is not declared
        assert server.get("/instances/%s/metadata/4601" % new).text == instance["ID"]
    finally:
        server.stop()


def test_profile_plus_request_options(orthanc, ct_instance):
    r = orthanc.post("/instances/%s/deidentify" % ct_instance["ID"],
                     {"Profile": "research", "Options": ["113110"]})
    ds = pydicom.dcmread(io.BytesIO(r.content))
    codes = {item.CodeValue for item in ds.DeidentificationMethodCodeSequence}
    # the profile's options (E.3.7, E.3.6 modified dates, E.3.5) plus RetainUIDs (E.3.9)
    assert codes == {"113100", "113108", "113107", "113105", "113110"}
    assert ds.SOPInstanceUID == pydicom.dcmread(CT).SOPInstanceUID


def test_two_profiles_of_one_study_are_two_stored_copies(orthanc, ct_instance):
    """Two de-identified versions of one study differ in content, so they must
    not share UIDs (Orthanc would keep only the first as AlreadyStored); one
    profile run twice gives the same UIDs (stable, keyed)."""
    study = ct_instance["ParentStudy"]
    basic = orthanc.post_json("/studies/%s/deidentify" % study, {"Synchronous": True})
    again = orthanc.post_json("/studies/%s/deidentify" % study, {"Synchronous": True})
    other = orthanc.post_json("/studies/%s/deidentify" % study,
                              {"Synchronous": True, "Options": ["RetainPatientCharacteristics"]})
    assert again["ID"] == basic["ID"]
    assert other["ID"] != basic["ID"]
    uid_basic = orthanc.get_json("/studies/%s" % basic["ID"])["MainDicomTags"]["StudyInstanceUID"]
    uid_other = orthanc.get_json("/studies/%s" % other["ID"])["MainDicomTags"]["StudyInstanceUID"]
    assert uid_basic != uid_other
    assert len(orthanc.get_json("/studies/%s/instances" % other["ID"])) == 1
    for answer in (basic, other):
        orthanc.delete("/studies/%s" % answer["ID"])


def test_synchronous_runs_as_a_job(orthanc, ct_instance):
    """"Synchronous": true waits for a real Orthanc job, as Orthanc's own
    /anonymize does: the work shows in /jobs with its progress and content."""
    before = set(orthanc.get_json("/jobs"))
    answer = orthanc.post_json("/studies/%s/deidentify" % ct_instance["ParentStudy"],
                               {"Synchronous": True, "Options": ["RetainUIDs"]})
    new_jobs = set(orthanc.get_json("/jobs")) - before
    assert len(new_jobs) == 1
    job = orthanc.get_json("/jobs/%s" % new_jobs.pop())
    assert job["Type"] == "Deidentification"
    assert job["State"] == "Success" and job["Progress"] == 100
    assert job["Content"]["InstancesCount"] == answer["InstancesCount"] == 1
    orthanc.delete("/studies/%s" % answer["ID"])
