"""Jobs survive a restart of Orthanc ("SaveJobs": true): a de-identification
job interrupted by a graceful stop (SIGTERM: Orthanc saves its jobs at exit)
or by kill -9 (the last saved state is older) resumes after the restart,
completes with the same UIDs and pseudonym as an uninterrupted run, without
duplicates and without losing an original (KeepSource false). A
re-identification job cannot resume without the caller's key (never stored)
unless PrivateKeyFile is configured. A saved state that cannot be read is
dropped, never a crash."""

import io
import json
import os
import signal
import sqlite3
import subprocess
import time

import pydicom
import pytest
import requests
from pydicom.uid import generate_uid

from conftest import PYDICOM_TEST_FILES

CT = os.path.join(PYDICOM_TEST_FILES, "CT_small.dcm")
SECRET_NAME = "Restart^Secretname"
SECRET_ID = "RESTART-PID-271828"
COUNT = 60
SIZE = 384   # rows = columns: a step takes long enough to stop Orthanc mid-job


def make_study(count=COUNT, patient_id=SECRET_ID):
    """`count` instances of one new study/series, as Part 10 bytes."""
    study, series = generate_uid(), generate_uid()
    files = []
    for i in range(count):
        ds = pydicom.dcmread(CT)
        ds.PatientName = SECRET_NAME
        ds.PatientID = patient_id
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = series
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = i + 1
        ds.Rows = SIZE
        ds.Columns = SIZE
        ds.PixelData = os.urandom(SIZE * SIZE * 2)
        buffer = io.BytesIO()
        ds.save_as(buffer, write_like_original=False)
        files.append(buffer.getvalue())
    return files


def config(extra=None):
    result = {
        "SaveJobs": True,
        "ConcurrentJobs": 1,
        "Deidentification": {"ThreadsPerJob": 1},
    }
    for key, value in (extra or {}).items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key].update(value)
        else:
            result[key] = value
    return result


def upload(server, files):
    answers = [server.upload(data) for data in files]
    assert all(answers)
    return answers


def restart(server, sig=signal.SIGTERM):
    """Stops Orthanc with `sig` and starts it again on the same storage."""
    if sig == signal.SIGTERM:
        server.stop()   # terminate(): Orthanc saves its jobs at exit
    else:
        server.process.send_signal(sig)
        server.process.wait(timeout=30)
    assert server.process.poll() is not None
    server.session = requests.Session()
    server.start()


def wait_for_progress(server, job_id, low=10, high=70, timeout=60):
    """Returns once the job is running between `low` and `high` percent."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = server.get_json("/jobs/" + job_id)
        if job["State"] in ("Success", "Failure"):
            pytest.fail("The job finished before Orthanc could be stopped: make the study larger")
        if low <= job["Progress"] <= high:
            return job
        time.sleep(0.01)
    pytest.fail("The job did not make progress")


def patient_of_study(server, study_id):
    return server.get_json("/studies/%s" % study_id)["PatientMainDicomTags"]["PatientID"]


def copies_of_study(server, study_id):
    """SOP Instance UID -> source instance (metadata DeidentifiedFrom) of every instance of the study."""
    result = {}
    for instance in server.get_json("/studies/%s/instances" % study_id):
        uid = instance["MainDicomTags"]["SOPInstanceUID"]
        assert uid not in result, "duplicate SOP Instance UID"
        result[uid] = server.get("/instances/%s/metadata/DeidentifiedFrom" % instance["ID"]).text
    return result


def interrupted_run(start_orthanc, sig, name):
    server = start_orthanc(config(), name=name)
    files = make_study()
    answers = upload(server, files)
    source_study = answers[0]["ParentStudy"]
    sources = sorted(a["ID"] for a in answers)

    job_id = server.post_json("/studies/%s/deidentify" % source_study, {"KeepSource": False})["ID"]
    wait_for_progress(server, job_id)
    restart(server, sig)

    # The job is listed again (same ID) and resumes. An original is deleted
    # only once every copy is stored.
    assert job_id in server.get_json("/jobs")
    missing = [i for i in sources if server.get("/instances/" + i, check=False).status_code != 200]
    if missing:
        resources = server.get_json("/jobs/" + job_id)["Content"]["Resources"]
        assert len(resources) == 1
        assert len(server.get_json("/studies/%s/instances" % resources[0]["ID"])) == COUNT
    job = server.wait_for_job(job_id, timeout=120)
    assert job["State"] == "Success", json.dumps(job["Content"])
    content = job["Content"]
    assert content["InstancesCount"] == COUNT
    assert content["DeidentifiedInstancesCount"] == COUNT
    assert content["FailedInstancesCount"] == 0
    assert content["SourceDeleted"] is True

    # Exactly COUNT copies (no duplicate), one per original (none lost), originals gone.
    assert len(content["Resources"]) == 1
    new_study = content["Resources"][0]["ID"]
    copies = copies_of_study(server, new_study)
    assert len(copies) == COUNT
    assert sorted(copies.values()) == sources
    assert server.get("/studies/" + source_study, check=False).status_code == 404
    for instance in sources:
        assert server.get("/instances/" + instance, check=False).status_code == 404

    # An uninterrupted run of the same request on the same originals gives
    # the same UIDs and pseudonym (keyed providers): every copy is already stored.
    upload(server, files)
    answer = server.post_json("/studies/%s/deidentify" % source_study, {"KeepSource": True, "Synchronous": True})
    assert answer["ID"] == new_study
    assert answer["FailedInstancesCount"] == 0
    rerun = [j for j in server.get_json("/jobs?expand")
             if j["Type"] == "Deidentification" and j["ID"] != job_id]
    assert len(rerun) == 1
    assert rerun[0]["Content"]["AlreadyStoredInstancesCount"] == COUNT
    assert copies_of_study(server, new_study).keys() == copies.keys()
    assert patient_of_study(server, new_study).startswith("ANON")

    # The saved state holds no patient data.
    log = server.read_log()
    for value in (SECRET_NAME, SECRET_ID, "Secretname"):
        assert value not in log
    return server, job, content


def saved_registry(server):
    """The jobs registry Orthanc saved in its SQLite index (global property)."""
    db = sqlite3.connect(os.path.join(server.config["IndexDirectory"], "index"))
    try:
        for (prop, value) in db.execute("SELECT property, value FROM GlobalProperties"):
            if isinstance(value, str) and '"JobsRegistry"' in value:
                return prop, json.loads(value)
    finally:
        db.close()
    return None, None


def write_registry(server, prop, registry):
    db = sqlite3.connect(os.path.join(server.config["IndexDirectory"], "index"))
    try:
        db.execute("UPDATE GlobalProperties SET value=? WHERE property=?", (json.dumps(registry), prop))
        db.commit()
    finally:
        db.close()


def test_deidentification_job_resumes_after_sigterm(start_orthanc):
    server, job, content = interrupted_run(start_orthanc, signal.SIGTERM, "restart-term")
    # The saved state holds Orthanc IDs and settings, never patient data or keys.
    server.stop()
    _, registry = saved_registry(server)
    text = json.dumps(registry)
    for value in (SECRET_NAME, SECRET_ID, "Secretname", "PRIVATE KEY"):
        assert value not in text
    saved = registry["Jobs"][job["ID"]]["Job"]
    assert saved["Type"] == "Deidentification"
    assert saved["DeidentificationPlugin"] == 1
    assert saved["Operation"]["Request"]["KeepSource"] is False
    assert len(saved["Operation"]["Instances"]) == COUNT


def test_deidentification_job_resumes_after_kill_9(start_orthanc):
    # Orthanc saved the job when it was submitted (then every 10 s): the
    # instances done since are de-identified again, and Orthanc already has
    # those copies (same UIDs): no duplicate.
    server, job, content = interrupted_run(start_orthanc, signal.SIGKILL, "restart-kill")
    assert content["AlreadyStoredInstancesCount"] > 0
    server.stop()
