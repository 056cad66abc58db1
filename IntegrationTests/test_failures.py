"""Failures: an unreadable or corrupted stored instance fails alone, with a
clear reason naming its Orthanc ID and no patient data; KeepSource=false
deletes the originals only when every copy was stored."""

import io
import os

import pydicom
import pytest
from pydicom.uid import generate_uid

from conftest import PYDICOM_TEST_FILES

CT = os.path.join(PYDICOM_TEST_FILES, "CT_small.dcm")
SECRET_NAME = "Zyxwvut^Secretname"
SECRET_ID = "SECRET-PID-314159"


def make_study(count, name=SECRET_NAME, patient_id=SECRET_ID):
    """`count` instances of one new study/series, as Part 10 bytes."""
    study, series = generate_uid(), generate_uid()
    files = []
    for i in range(count):
        ds = pydicom.dcmread(CT)
        ds.PatientName = name
        ds.PatientID = patient_id
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = series
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = i + 1
        buffer = io.BytesIO()
        ds.save_as(buffer, write_like_original=False)
        files.append(buffer.getvalue())
    return files


@pytest.fixture(scope="module")
def server(start_orthanc):
    # 3 instances per step: failures in the middle of a parallel batch
    return start_orthanc({"Deidentification": {"ThreadsPerJob": 3}}, name="failures")


def upload_study(server, count):
    answers = [server.upload(data) for data in make_study(count)]
    assert all(answers)
    return answers


def assert_no_patient_data(text):
    for value in (SECRET_NAME, "Zyxwvut", "Secretname", SECRET_ID):
        assert value not in text


def test_corrupted_instances_fail_alone_and_nothing_is_deleted(server):
    answers = upload_study(server, 4)
    study = answers[0]["ParentStudy"]
    truncated, missing = answers[1]["ID"], answers[2]["ID"]

    # Corrupt the stored files behind Orthanc's back (no storage cache in the tests).
    path = server.attachment_path(truncated)
    with open(path, "rb") as f:
        original = f.read()
    with open(path, "wb") as f:
        f.write(original[:1000])
    missing_path = server.attachment_path(missing)
    with open(missing_path, "rb") as f:
        missing_original = f.read()
    os.remove(missing_path)

    job_id = server.post_json("/studies/%s/deidentify" % study, {"KeepSource": False})["ID"]
    job = server.wait_for_job(job_id)
    content = job["Content"]
    assert job["State"] == "Failure"
    assert content["InstancesCount"] == 4
    assert content["DeidentifiedInstancesCount"] == 2
    assert content["FailedInstancesCount"] == 2
    failed = {f["Instance"]: f["Error"] for f in content["FailedInstances"]}
    assert set(failed) == {truncated, missing}
    assert truncated in failed[truncated] and "not a valid DICOM file" in failed[truncated]
    assert missing in failed[missing] and "storage" in failed[missing]

    # KeepSource=false deleted nothing, since not every copy was stored
    assert content["SourceDeleted"] is False
    assert len(server.get_json("/studies/%s/instances" % study)) == 4

    # the two good instances have their copies, linked to their sources
    new_study = content["Resources"][0]["ID"]
    copies = server.get_json("/studies/%s/instances" % new_study)
    sources = {server.get("/instances/%s/metadata/DeidentifiedFrom" % c["ID"]).text for c in copies}
    assert sources == {answers[0]["ID"], answers[3]["ID"]}

    # no patient data in the job, nor in the log
    assert_no_patient_data(str(job))
    assert_no_patient_data(server.read_log())

    # the single-instance route gives a clear 400 on the corrupted one
    r = server.post("/instances/%s/deidentify" % truncated, {}, check=False)
    assert r.status_code == 400 and truncated in r.json()["Details"]
    assert_no_patient_data(r.text)

    # Repair the files and resubmit: only the failed instances are retried, with
    # the same providers (the copies join the same new study), then the
    # originals are deleted.
    with open(path, "wb") as f:
        f.write(original)
    with open(missing_path, "wb") as f:
        f.write(missing_original)
    server.post("/jobs/%s/resubmit" % job_id, "")
    job = server.wait_for_job(job_id)
    content = job["Content"]
    assert job["State"] == "Success", content
    assert content["DeidentifiedInstancesCount"] == 4 and content["FailedInstancesCount"] == 0
    assert [r["ID"] for r in content["Resources"]] == [new_study]
    assert len(server.get_json("/studies/%s/instances" % new_study)) == 4
    assert content["SourceDeleted"] is True
    assert server.get("/studies/%s" % study, check=False).status_code == 404


def test_keep_source_false_deletes_after_success(server):
    answers = upload_study(server, 2)
    study = answers[0]["ParentStudy"]
    answer = server.post_json("/studies/%s/deidentify" % study, {"KeepSource": False, "Synchronous": True})
    assert answer["FailedInstancesCount"] == 0 and answer["SourceDeleted"] is True
    assert server.get("/studies/%s" % study, check=False).status_code == 404
    copies = server.get_json("/studies/%s/instances" % answer["ID"])
    assert {server.get("/instances/%s/metadata/DeidentifiedFrom" % c["ID"]).text for c in copies} == \
        {a["ID"] for a in answers}


def test_keep_source_default_keeps_everything(server):
    answers = upload_study(server, 2)
    series = answers[0]["ParentSeries"]
    answer = server.post_json("/series/%s/deidentify" % series, {"Synchronous": True})
    assert answer["SourceDeleted"] is False
    assert len(server.get_json("/series/%s/instances" % series)) == 2
    assert len(server.get_json("/series/%s/instances" % answer["ID"])) == 2


def test_synchronous_answer_reports_failures(server):
    answers = upload_study(server, 2)
    bad = answers[1]["ID"]
    with open(server.attachment_path(bad), "wb") as f:
        f.write(b"\0" * 200)
    answer = server.post_json("/studies/%s/deidentify" % answers[0]["ParentStudy"],
                              {"Synchronous": True, "KeepSource": False})
    assert answer["InstancesCount"] == 2 and answer["FailedInstancesCount"] == 1
    assert answer["FailedInstances"][0]["Instance"] == bad
    assert answer["SourceDeleted"] is False
    assert len(server.get_json("/studies/%s/instances" % answers[0]["ParentStudy"])) == 2
    assert_no_patient_data(str(answer))
