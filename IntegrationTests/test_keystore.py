"""Key store integration tests (issue 4) against real Orthanc processes:
stable pseudonyms across studies, projects and restarts, a PostgreSQL key
store shared by two Orthanc nodes, the audit trail and the mapping lookup."""

import contextlib
import datetime
import io
import os
import secrets
import tempfile
import threading

import pydicom
import pytest
import requests

from conftest import OrthancServer, PYDICOM_TEST_FILES, base_config, deep_merge, free_port

PYDICOM_CT = os.path.join(PYDICOM_TEST_FILES, "CT_small.dcm")
LONGITUDINAL = {"Options": ["RetainLongitudinalModifiedDates"]}


@pytest.fixture
def node(start_orthanc):
    """node(deidentification_section) -> a running Orthanc (conftest's
    start_orthanc), usable as a context manager that stops it."""
    @contextlib.contextmanager
    def start(deidentification, name=None):
        server = start_orthanc({"Deidentification": deidentification}, name=name)
        try:
            yield server
        finally:
            server.stop()
    return start


@contextlib.contextmanager
def restarted(server):
    """The same Orthanc (same configuration and storage) started again."""
    server.session = requests.Session()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def make_instance(patient_id, study_date, issuer=None, patient_name="Doe^Jane"):
    """A new study (new UIDs) of one patient, from pydicom's CT_small.dcm."""
    ds = pydicom.dcmread(PYDICOM_CT)
    ds.PatientID = patient_id
    ds.PatientName = patient_name
    if issuer is not None:
        ds.IssuerOfPatientID = issuer
    ds.StudyInstanceUID = pydicom.uid.generate_uid()
    ds.SeriesInstanceUID = pydicom.uid.generate_uid()
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyDate = study_date
    ds.SeriesDate = study_date
    ds.ContentDate = study_date
    buffer = io.BytesIO()
    ds.save_as(buffer, write_like_original=False)
    return buffer.getvalue()


def upload(orthanc, dicom):
    r = requests.post(orthanc.url + "/instances", data=dicom, timeout=30)
    r.raise_for_status()
    return r.json()["ParentStudy"]


def deidentify_study(orthanc, study, **body):
    body.setdefault("Synchronous", True)
    r = requests.post(orthanc.url + "/studies/%s/deidentify" % study, json=body, timeout=120)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["FailedInstancesCount"] == 0, answer
    return answer["ID"]


def study_tags(orthanc, study):
    r = requests.get(orthanc.url + "/studies/%s/instances" % study, timeout=30)
    r.raise_for_status()
    instance = r.json()[0]["ID"]
    r = requests.get(orthanc.url + "/instances/%s/simplified-tags" % instance, timeout=30)
    r.raise_for_status()
    return r.json()


def days_between(a, b):
    fmt = "%Y%m%d"
    return (datetime.datetime.strptime(b, fmt) - datetime.datetime.strptime(a, fmt)).days


# --- SQLite (default key store) -------------------------------------------


def test_same_patient_in_two_studies_at_different_times_gets_one_pseudonym(node):
    config = {"Profiles": {"longitudinal": LONGITUDINAL}}
    with node(config) as orthanc:
        first = upload(orthanc, make_instance("PAT-LONG-1", "20200101"))
        result1 = study_tags(orthanc, deidentify_study(orthanc, first, Profile="longitudinal"))

        # Later, a second study of the same patient (and one of another patient).
        second = upload(orthanc, make_instance("PAT-LONG-1", "20200311"))
        other = upload(orthanc, make_instance("PAT-LONG-2", "20200311"))
        result2 = study_tags(orthanc, deidentify_study(orthanc, second, Profile="longitudinal"))
        result3 = study_tags(orthanc, deidentify_study(orthanc, other, Profile="longitudinal"))

        assert result1["PatientID"] == result2["PatientID"]
        assert result1["PatientID"].startswith("ANON") and len(result1["PatientID"]) == 12
        assert result1["PatientID"] != "PAT-LONG-1"
        assert result3["PatientID"] != result1["PatientID"]

        # E.3.6 modified dates: the dates moved, the interval did not.
        assert result1["StudyDate"] != "20200101"
        assert days_between(result1["StudyDate"], result2["StudyDate"]) == 70
        # One offset per patient, never 0 (default range [-3650, -1]).
        assert -3650 <= days_between("20200101", result1["StudyDate"]) <= -1


def test_two_projects_give_different_pseudonyms_and_uids(node):
    config = {"Projects": {"trial": {"Pseudonym": {"Prefix": "TRIAL", "Digits": 6}}}}
    with node(config) as orthanc:
        study = upload(orthanc, make_instance("PAT-PROJ-1", "20210505"))
        default = study_tags(orthanc, deidentify_study(orthanc, study))
        trial = study_tags(orthanc, deidentify_study(orthanc, study, Project="trial"))

        assert default["PatientID"].startswith("ANON") and len(default["PatientID"]) == 12
        assert trial["PatientID"].startswith("TRIAL") and len(trial["PatientID"]) == 11
        assert default["PatientID"][4:] != trial["PatientID"][5:]
        assert default["StudyInstanceUID"] != trial["StudyInstanceUID"]
        assert trial["StudyInstanceUID"].startswith("2.25.")

        # The same patient through the upload tool, project as a header: same pseudonym.
        r = requests.post(orthanc.url + "/tools/deidentify", data=make_instance("PAT-PROJ-1", "20210606"),
                          headers={"X-Deidentification-Project": "trial"}, timeout=30)
        assert r.status_code == 200, r.text
        assert pydicom.dcmread(io.BytesIO(r.content)).PatientID == trial["PatientID"]

        r = requests.post(orthanc.url + "/studies/%s/deidentify" % study,
                          json={"Synchronous": True, "Project": "nope"}, timeout=30)
        assert r.status_code == 400
        assert "Unknown de-identification project" in r.text


def test_profile_project_is_used(node):
    config = {"Projects": {"trial": {"Pseudonym": {"Prefix": "T", "Digits": 5}}},
              "Profiles": {"trialprofile": {"Options": [], "Project": "trial"}}}
    with node(config) as orthanc:
        study = upload(orthanc, make_instance("PAT-PROF-1", "20210505"))
        tags = study_tags(orthanc, deidentify_study(orthanc, study, Profile="trialprofile"))
        assert tags["PatientID"].startswith("T") and len(tags["PatientID"]) == 6


def test_pseudonyms_and_uids_survive_a_restart(node):
    config = {"Profiles": {"longitudinal": LONGITUDINAL}}
    with node(config) as orthanc:
        study = upload(orthanc, make_instance("PAT-RESTART-1", "20190101"))
        before = study_tags(orthanc, deidentify_study(orthanc, study, Profile="longitudinal"))
    # The default key store: a SQLite file in Orthanc's StorageDirectory.
    assert os.path.exists(os.path.join(orthanc.storage_directory, "deidentification-keys.db"))

    with restarted(orthanc):   # same configuration and storage directory
        later = upload(orthanc, make_instance("PAT-RESTART-1", "20190111"))
        after = study_tags(orthanc, deidentify_study(orthanc, later, Profile="longitudinal"))
        assert after["PatientID"] == before["PatientID"]
        assert days_between(before["StudyDate"], after["StudyDate"]) == 10

        # The first study again: the keyed UIDs are the same as before the restart.
        again = study_tags(orthanc, deidentify_study(orthanc, study, Profile="longitudinal"))
        assert again["StudyInstanceUID"] == before["StudyInstanceUID"]
        assert again["SOPInstanceUID"] == before["SOPInstanceUID"]


def test_master_key_file_wraps_the_project_secrets(node, start_orthanc, tmp_path):
    key = tmp_path / "master.key"
    key.write_text(secrets.token_hex(32) + "\n")
    config = {"KeyStore": {"MasterKeyFile": str(key)}}
    with node(config) as orthanc:
        study = upload(orthanc, make_instance("PAT-MASTER-1", "20200101"))
        before = study_tags(orthanc, deidentify_study(orthanc, study))["PatientID"]
    storage = orthanc.storage_directory

    # Another master key on the same store: the plugin refuses to start.
    wrong = tmp_path / "wrong.key"
    wrong.write_text(secrets.token_hex(32))
    failed = start_orthanc({"StorageDirectory": storage, "IndexDirectory": storage,
                            "Deidentification": {"KeyStore": {"MasterKeyFile": str(wrong)}}},
                           name="wrong-master-key", expect_failure=True)
    assert failed.returncode != 0
    assert "wrong master key" in failed.read_log()

    with restarted(orthanc):   # the right key again
        later = upload(orthanc, make_instance("PAT-MASTER-1", "20200202"))
        assert study_tags(orthanc, deidentify_study(orthanc, later))["PatientID"] == before


# --- Audit trail and mapping lookup -----------------------------------------


def test_audit_route_lists_operations_without_patient_data(node):
    with node({}) as orthanc:
        studies = [upload(orthanc, make_instance("PAT-AUDIT-%d" % i, "20220202",
                                                 patient_name="Secret^Name%d" % i)) for i in range(3)]
        results = [deidentify_study(orthanc, s, Options=["RetainUIDs"]) for s in studies]

        r = requests.get(orthanc.url + "/deidentification/audit", timeout=30)
        assert r.status_code == 200
        records = r.json()["Records"]
        assert len(records) == 3
        for study, result, record in zip(studies, results, records):
            assert record["Operation"] == "deidentify"
            assert record["Source"] == [study]
            assert record["Result"] == [result]
            assert record["Profile"] == "basic"   # conftest's DefaultProfile
            assert record["Options"] == "RetainUIDs"
            assert record["Project"] == "default"
            assert record["Status"] == "Success"
            assert record["Caller"]["RemoteIP"] == "127.0.0.1"
            assert record["Time"].endswith("Z")
        assert "PAT-AUDIT" not in r.text and "Secret" not in r.text

        # Paging by id.
        page1 = requests.get(orthanc.url + "/deidentification/audit?limit=2", timeout=30).json()
        assert [x["ID"] for x in page1["Records"]] == [records[0]["ID"], records[1]["ID"]]
        assert not page1["Done"]
        page2 = requests.get(orthanc.url + "/deidentification/audit?since=%d&limit=2" % page1["Next"],
                             timeout=30).json()
        assert [x["ID"] for x in page2["Records"]] == [records[2]["ID"]]
        assert page2["Done"]

        assert requests.get(orthanc.url + "/deidentification/audit?limit=0", timeout=30).status_code == 400


def test_audit_records_the_user_of_http_basic_authentication(orthanc_workdir):
    directory = tempfile.mkdtemp(prefix="auth-", dir=orthanc_workdir)
    config = deep_merge(base_config(directory, free_port(), free_port()),
                        {"AuthenticationEnabled": True, "RegisteredUsers": {"alice": "wonderland"}})
    server = OrthancServer(config, directory, "auth")
    auth = ("alice", "wonderland")
    server.session.auth = auth   # conftest's start() polls /system with this session
    orthanc = server.start()
    try:
        r = requests.post(orthanc.url + "/instances", data=make_instance("PAT-USER", "20220202"),
                          auth=auth, timeout=30)
        study = r.json()["ParentStudy"]
        r = requests.post(orthanc.url + "/studies/%s/deidentify" % study, json={"Synchronous": True},
                          auth=auth, timeout=60)
        assert r.status_code == 200, r.text
        audit = requests.get(orthanc.url + "/deidentification/audit", auth=auth, timeout=30)
        record = audit.json()["Records"][-1]
        assert record["Caller"]["Username"] == "alice"
        assert "wonderland" not in audit.text
    finally:
        server.stop()


def test_audit_ignores_unverified_user_names(node):
    # Without "AuthenticationEnabled", an Authorization header is only a claim.
    with node({}) as orthanc:
        study = upload(orthanc, make_instance("PAT-CLAIM", "20220202"))
        r = requests.post(orthanc.url + "/studies/%s/deidentify" % study, json={"Synchronous": True},
                          auth=("mallory", "x"), timeout=60)
        assert r.status_code == 200, r.text
        record = requests.get(orthanc.url + "/deidentification/audit", timeout=30).json()["Records"][-1]
        assert record["Caller"] == {"RemoteIP": "127.0.0.1"}


def test_mapping_lookup_is_forbidden_by_default(node):
    with node({}) as orthanc:
        study = upload(orthanc, make_instance("PAT-MAP-0", "20220202"))
        deidentify_study(orthanc, study)
        for query in ("PatientID=PAT-MAP-0", "Pseudonym=ANON00000000"):
            r = requests.get(orthanc.url + "/deidentification/mappings?" + query, timeout=30)
            assert r.status_code == 403
            assert "EnableMappingLookup" in r.text


def test_mapping_lookup_when_enabled(node):
    config = {"EnableMappingLookup": True, "Projects": {"trial": {}}}
    with node(config) as orthanc:
        study = upload(orthanc, make_instance("PAT-MAP-1", "20220202", issuer="HOSP"))
        pseudonym = study_tags(orthanc, deidentify_study(orthanc, study))["PatientID"]

        forward = requests.get(orthanc.url + "/deidentification/mappings",
                               params={"PatientID": "PAT-MAP-1", "IssuerOfPatientID": "HOSP"}, timeout=30)
        assert forward.status_code == 200, forward.text
        assert forward.json()["Pseudonym"] == pseudonym

        reverse = requests.get(orthanc.url + "/deidentification/mappings",
                               params={"Pseudonym": pseudonym}, timeout=30)
        assert reverse.status_code == 200
        assert reverse.json()["PatientID"] == "PAT-MAP-1"
        assert reverse.json()["IssuerOfPatientID"] == "HOSP"

        # Unknown patient, other issuer, other project: 404 (lookups create nothing).
        for params in ({"PatientID": "PAT-MAP-2"},
                       {"PatientID": "PAT-MAP-1"},
                       {"PatientID": "PAT-MAP-1", "IssuerOfPatientID": "HOSP", "Project": "trial"},
                       {"Pseudonym": "ANON00000000"}):
            r = requests.get(orthanc.url + "/deidentification/mappings", params=params, timeout=30)
            assert r.status_code == 404, params
        assert requests.get(orthanc.url + "/deidentification/mappings", timeout=30).status_code == 400

        # Lookups are audited, without the looked-up values.
        audit = requests.get(orthanc.url + "/deidentification/audit", timeout=30)
        lookups = [x for x in audit.json()["Records"] if x["Operation"] == "mapping-lookup"]
        assert len(lookups) == 6
        assert "PAT-MAP" not in audit.text and pseudonym not in audit.text


# --- PostgreSQL: two Orthanc nodes share the key store ------------------------


def postgres_conninfo():
    conninfo = os.environ.get("DEID_TEST_POSTGRES", "")
    if not conninfo:
        pytest.skip("DEID_TEST_POSTGRES is not set (see Resources/StartTestPostgres.sh): "
                    "PostgreSQL key store not tested")
    return conninfo


def test_two_orthanc_nodes_sharing_postgresql_give_one_pseudonym(node):
    conninfo = postgres_conninfo()
    project = "race-" + secrets.token_hex(4)   # the database outlives one run
    config = {"KeyStore": {"Type": "PostgreSQL", "ConnectionString": conninfo},
              "Projects": {project: {}}, "EnableMappingLookup": True}

    patients = ["PAT-RACE-%d" % i for i in range(6)]
    with node(config, name="pg-node1") as node1, node(config, name="pg-node2") as node2:
        # Each node holds its own study of every patient.
        studies1 = [upload(node1, make_instance(p, "20230101")) for p in patients]
        studies2 = [upload(node2, make_instance(p, "20230202")) for p in patients]

        results = {}
        barrier = threading.Barrier(2 * len(patients))

        def run(node, name, study):
            barrier.wait()
            results[name] = deidentify_study(node, study, Project=project)

        threads = []
        for i in range(len(patients)):
            threads.append(threading.Thread(target=run, args=(node1, ("n1", i), studies1[i])))
            threads.append(threading.Thread(target=run, args=(node2, ("n2", i), studies2[i])))
        for t in threads:
            t.start()
        for t in threads:
            t.join(180)
        assert len(results) == 2 * len(patients)

        pseudonyms = []
        for i, patient in enumerate(patients):
            p1 = study_tags(node1, results[("n1", i)])["PatientID"]
            p2 = study_tags(node2, results[("n2", i)])["PatientID"]
            assert p1 == p2, patient
            pseudonyms.append(p1)

            # Either node resolves the mapping from the shared store.
            r = requests.get(node2.url + "/deidentification/mappings",
                             params={"Pseudonym": p1, "Project": project}, timeout=30)
            assert r.json()["PatientID"] == patient
        assert len(set(pseudonyms)) == len(patients)

    # A third node started later sees the same pseudonyms.
    with node(config, name="pg-node3") as node3:
        study = upload(node3, make_instance(patients[0], "20240101"))
        tags = study_tags(node3, deidentify_study(node3, study, Project=project))
        assert tags["PatientID"] == pseudonyms[0]


# --- Configuration errors stop the plugin with a clear message ----------------


@pytest.mark.parametrize("section, message", [
    ({"KeyStore": {"Type": "Oracle"}}, "KeyStore.Type"),
    ({"KeyStore": {"Type": "PostgreSQL"}}, "ConnectionString"),
    ({"KeyStore": {"MasterKeyFile": "/nonexistent/master.key"}}, "MasterKeyFile"),
    ({"Pseudonym": {"Digits": 0}}, "Digits"),
    ({"Projects": {"trial": {"UidRoot": "1.02.3"}}}, "UidRoot"),
    ({"DateOffsetRange": [0, 0]}, "date offset range"),
    ({"Profiles": {"p": {"Options": [], "Project": "missing"}}}, "Profiles.p.Project"),
    ({"EnableMappingLookup": "yes"}, "EnableMappingLookup"),
])
def test_bad_key_store_configuration_is_refused(start_orthanc, section, message):
    server = start_orthanc({"Deidentification": section}, name="badkeystore", expect_failure=True)
    assert server.returncode != 0
    assert message in server.read_log()
