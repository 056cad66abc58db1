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
# Orthanc saves its jobs about 1-2 s after SIGTERM (once its HTTP server has
# stopped; up to 5 s on a loaded machine), and a step takes a few ms: an
# Orthanc Lua filter slows down the
# storing of the de-identified copies (not the uploads) so that the job still
# runs then (only while the file SLOW exists).
SLOW_STORE_LUA = """
function ReceivedInstanceFilter(dicom, origin, info)
  if string.sub(dicom.PatientID or '', 1, 4) == 'ANON' then
    local flag = io.open('%s', 'r')
    if flag then
      flag:close()
      os.execute('sleep 0.2')
    end
  end
  return true
end
"""


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
        buffer = io.BytesIO()
        ds.save_as(buffer, write_like_original=False)
        files.append(buffer.getvalue())
    return files


def config(directory, extra=None):
    lua = os.path.join(str(directory), "slow-store.lua")
    slow = os.path.join(str(directory), "SLOW")
    with open(slow, "w"):
        pass
    with open(lua, "w") as f:
        f.write(SLOW_STORE_LUA % slow)
    result = {
        "LuaScripts": [lua],
        "SaveJobs": True,
        "DicomServerEnabled": False,   # a faster stop
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
    """Stops Orthanc with `sig` and starts it again on the same storage;
    returns the jobs registry Orthanc had saved."""
    if sig == signal.SIGTERM:
        server.stop()   # terminate(): Orthanc saves its jobs at exit
    else:
        server.process.send_signal(sig)
        server.process.wait(timeout=30)
    assert server.process.poll() is not None
    _, registry = saved_registry(server)
    server.session = requests.Session()
    server.start()
    return registry


def wait_for_progress(server, job_id, low=5, high=30, timeout=60):
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


def interrupted_run(start_orthanc, tmp_path, sig, name):
    server = start_orthanc(config(tmp_path), name=name)
    files = make_study()
    answers = upload(server, files)
    source_study = answers[0]["ParentStudy"]
    sources = sorted(a["ID"] for a in answers)

    job_id = server.post_json("/studies/%s/deidentify" % source_study, {"KeepSource": False})["ID"]
    wait_for_progress(server, job_id)
    registry = restart(server, sig)
    os.remove(os.path.join(str(tmp_path), "SLOW"))   # the rest of the job and the rerun at full speed

    # Orthanc had saved the job unfinished: it resumes after the restart.
    saved = registry["Jobs"][job_id]
    assert saved["State"] in ("Pending", "Running"), saved["State"]
    pending = saved["Job"]["Operation"]["States"].count("P")
    assert 0 < pending < COUNT or sig == signal.SIGKILL

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

    # Every copy names its job, also when Orthanc saved the job before it had
    # given it its ID (kill -9): the restored job finds it.
    for instance in server.get_json("/studies/%s/instances" % new_study):
        assert server.get("/instances/%s/metadata/DeidentificationJob" % instance["ID"]).text == job_id

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

    # Orthanc's log holds no patient data.
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


def test_deidentification_job_resumes_after_sigterm(start_orthanc, tmp_path):
    server, job, content = interrupted_run(start_orthanc, tmp_path, signal.SIGTERM, "restart-term")
    # Orthanc saved the state after a recent step: instances done before it
    # are not redone; only the step running at the stop (ThreadsPerJob 1: one
    # instance) is, and on a loaded machine the one before it when Orthanc's
    # snapshot lagged behind. Orthanc already has their copies: no duplicate.
    assert content["AlreadyStoredInstancesCount"] <= 2
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
    assert len(saved["Operation"]["Instances"].split(",")) == COUNT
    assert set(saved["Operation"]["States"]) <= {"D", "A"}   # A: done again, Orthanc had the copy


def test_deidentification_job_resumes_after_kill_9(start_orthanc, tmp_path):
    # Orthanc saved the job when it was submitted (then every 10 s): the
    # instances done since are de-identified again, and Orthanc already has
    # those copies (same UIDs): no duplicate.
    server, job, content = interrupted_run(start_orthanc, tmp_path, signal.SIGKILL, "restart-kill")
    assert content["AlreadyStoredInstancesCount"] > 0
    server.stop()


def test_reidentification_job_needs_the_key_after_a_restart(start_orthanc, tmp_path):
    key = str(tmp_path / "custodian-key.pem")
    cert = str(tmp_path / "custodian-cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-subj", "/CN=custodian", "-days", "2"], check=True, capture_output=True)
    with open(key) as f:
        pem = f.read()

    server = start_orthanc(config(tmp_path, {"Deidentification": {
        "EnableReidentification": True, "Recipients": {"custodian": cert}}}), name="restart-reid")
    small = upload(server, make_study(3, patient_id="REID-PID-1"))
    deid = server.post_json("/studies/%s/deidentify" % small[0]["ParentStudy"],
                            {"Recipients": ["custodian"], "Synchronous": True})["ID"]

    # One jobs worker: the re-identification job waits behind a long job,
    # and Orthanc saves it (without its key) at the graceful stop.
    blocker = upload(server, make_study(20))
    blocker_job = server.post_json("/studies/%s/deidentify" % blocker[0]["ParentStudy"], {})["ID"]
    reid_job = server.post_json("/studies/%s/reidentify" % deid, {"PrivateKey": pem})["ID"]
    server.post("/jobs/%s/pause" % reid_job, {})   # kept unfinished across the restart
    wait_for_progress(server, blocker_job)
    registry = restart(server)
    assert registry["Jobs"][reid_job]["State"] == "Paused"

    server.post("/jobs/%s/resume" % reid_job, {})
    job = server.wait_for_job(reid_job, timeout=120)
    assert job["State"] == "Failure"
    assert "the private key is not stored; submit again" in job["Content"]["Error"]
    assert job["Content"]["ReidentifiedInstancesCount"] == 0
    assert server.wait_for_job(blocker_job, timeout=120)["State"] == "Success"

    # A second one, kept unfinished across a restart with PrivateKeyFile.
    blocker = upload(server, make_study(20))
    blocker_job = server.post_json("/studies/%s/deidentify" % blocker[0]["ParentStudy"], {})["ID"]
    second_job = server.post_json("/studies/%s/reidentify" % deid, {"PrivateKey": pem})["ID"]
    server.post("/jobs/%s/pause" % second_job, {})
    wait_for_progress(server, blocker_job)
    server.stop()

    _, registry = saved_registry(server)
    assert registry["Jobs"][second_job]["State"] == "Paused"
    text = json.dumps(registry)
    assert "PRIVATE KEY" not in text and pem.splitlines()[1] not in text
    assert registry["Jobs"][reid_job]["Job"]["Operation"]["KeyFromConfiguration"] is False

    # With PrivateKeyFile configured, a restored job resumes with that key
    # (and the failed one can be resubmitted).
    server.config["Deidentification"]["PrivateKeyFile"] = key
    server.session = requests.Session()
    server.start()
    server.post("/jobs/%s/resume" % second_job, {})
    server.post("/jobs/%s/resubmit" % reid_job, {})
    for job_id in (second_job, reid_job):
        job = server.wait_for_job(job_id, timeout=60)
        assert job["State"] == "Success", json.dumps(job["Content"])
        assert job["Content"]["ReidentifiedInstancesCount"] == 3
        assert "Error" not in job["Content"]
        restored = job["Content"]["Resources"][0]["ID"]
        assert patient_of_study(server, restored) == "REID-PID-1"
    server.stop()


def test_unreadable_saved_states_are_dropped(start_orthanc, tmp_path):
    server = start_orthanc(config(tmp_path), name="restart-garbage")
    answers = upload(server, make_study(2))
    server.post_json("/studies/%s/deidentify" % answers[0]["ParentStudy"], {"Synchronous": True})
    server.stop()

    prop, registry = saved_registry(server)
    (good_id, good), = [(k, v) for k, v in registry["Jobs"].items() if v["Job"]["Type"] == "Deidentification"]
    operation = good["Job"]["Operation"]

    def variant(job):
        entry = json.loads(json.dumps(good))
        entry["Job"] = job
        return entry

    def with_operation(**changes):
        op = json.loads(json.dumps(operation))
        op.update(changes)
        return {"Type": "Deidentification", "DeidentificationPlugin": 1, "JobID": "", "Operation": op}

    count = len(operation["States"])

    def send_operation(**changes):
        op = {"Version": 1, "Level": "Study", "Source": operation["Source"],
              "Destination": {"Kind": "Modality", "Name": "TRIAL"}, "Store": False,
              "Instances": operation["Instances"], "States": "P" * count, "Copies": ",".join([""] * count),
              "Errors": {}, "Decisions": [], "DecisionOfInstance": ",".join([""] * count)}
        op.update(changes)
        return {"Type": "DeidentificationSend", "DeidentificationPlugin": 1, "JobID": "", "Operation": op}

    garbage = [
        {"Type": "Deidentification"},
        {"Type": "Deidentification", "DeidentificationPlugin": 99, "JobID": "", "Operation": operation},
        {"Type": "Deidentification", "DeidentificationPlugin": "1", "Operation": operation},
        {"Type": "Deidentification", "DeidentificationPlugin": 1, "JobID": "a\nb", "Operation": operation},
        {"Type": "Deidentification", "DeidentificationPlugin": 1, "JobID": "", "Operation": [1, 2]},
        with_operation(Version=0),
        with_operation(Source="../../tools/reset"),
        with_operation(Level="Instance"),
        with_operation(Instances="garbage"),
        with_operation(Instances=[1, None, "x"]),
        with_operation(Instances="../x", States="P", Copies=""),
        with_operation(States="P"),
        with_operation(States="X" * len(operation["States"])),
        with_operation(Copies="/tools" + operation["Copies"]),
        with_operation(Copies=",".join([""] * len(operation["States"]))),
        with_operation(Errors=[]),
        with_operation(Request="x"),
        with_operation(Request={"Profile": 5, "Options": []}),
        {"Type": "Reidentification", "DeidentificationPlugin": 1, "JobID": "",
         "Operation": {"Version": 1, "Level": "Study", "Source": 12, "Instances": {}}},
        with_operation(States="R" * len(operation["States"])),   # a send's letter
        send_operation(Destination={"Kind": "Nowhere", "Name": "x"}),
        send_operation(States="F" * len(operation["States"]), DecisionOfInstance=",".join(["7"] * count)),
        send_operation(States="A" * len(operation["States"])),   # a de-identification's letter
    ]
    for number, job in enumerate(garbage):
        registry["Jobs"]["00000000-0000-0000-0000-%012d" % number] = variant(job)
    # A saved request that the configuration no longer allows: restored, but fails clearly.
    refused_id = "00000000-0000-0000-0000-999999999999"
    registry["Jobs"][refused_id] = variant(with_operation(
        Finished=False, Request={"Profile": "removed", "Options": [], "KeepSource": False},
        States="P" * len(operation["States"]), Copies=",".join([""] * len(operation["States"]))))
    registry["Jobs"][refused_id]["State"] = "Pending"
    write_registry(server, prop, registry)

    server.session = requests.Session()
    server.start()
    jobs = server.get_json("/jobs")
    assert good_id in jobs
    for number in range(len(garbage)):
        assert "00000000-0000-0000-0000-%012d" % number not in jobs
    assert "cannot restore the saved Deidentification job" in server.read_log()
    assert "/tools/reset" not in server.read_log()

    refused = server.wait_for_job(refused_id, timeout=60)
    assert refused["State"] == "Failure"
    assert "cannot resume" in refused["Content"]["Error"]
    assert "removed" in refused["Content"]["Error"]
    # Nothing was deleted, the server is alive.
    for answer in answers:
        assert server.get("/instances/" + answer["ID"], check=False).status_code == 200
    assert server.get_json("/system")["Version"]
    server.stop()


def test_older_saved_states_after_the_deletion(start_orthanc, tmp_path):
    """After kill -9, Orthanc restores the last state it saved, which may be
    older than what the job did: a deletion of the originals that was not
    saved completes without error, and instances the job had done before
    deleting them fail clearly -- nothing is lost or duplicated."""
    server = start_orthanc(config(tmp_path), name="restart-old")
    answers = upload(server, make_study(4))
    source_study = answers[0]["ParentStudy"]
    job_id = server.post_json("/studies/%s/deidentify" % source_study, {"KeepSource": False})["ID"]
    job = server.wait_for_job(job_id)
    assert job["State"] == "Success" and job["Content"]["SourceDeleted"] is True
    new_study = job["Content"]["Resources"][0]["ID"]
    copies = copies_of_study(server, new_study)
    server.stop()
    prop, registry = saved_registry(server)
    final = json.loads(json.dumps(registry["Jobs"][job_id]))

    # 1. Saved with every copy stored, before the deletion was saved.
    entry = registry["Jobs"][job_id]
    entry["State"] = "Running"
    entry["Job"]["Operation"].update(Finished=False, SourceDeleted=False)
    write_registry(server, prop, registry)
    server.session = requests.Session()
    server.start()
    job = server.wait_for_job(job_id)
    assert job["State"] == "Success", json.dumps(job["Content"])
    assert job["Content"]["SourceDeleted"] is True
    assert copies_of_study(server, new_study) == copies
    server.stop()

    # 2. Saved when nothing was done yet (the originals are gone since).
    prop, registry = saved_registry(server)
    entry = registry["Jobs"][job_id] = final
    entry["State"] = "Running"
    operation = entry["Job"]["Operation"]
    operation.update(Finished=False, SourceDeleted=False, NewResources=[], NewPatients=[])
    operation["States"] = "P" * len(operation["States"])
    operation["Copies"] = ",".join([""] * len(operation["States"]))
    write_registry(server, prop, registry)
    server.session = requests.Session()
    server.start()
    job = server.wait_for_job(job_id)
    assert job["State"] == "Failure"
    assert job["Content"]["FailedInstancesCount"] == 4
    for failure in job["Content"]["FailedInstances"]:
        assert failure["Instance"] in failure["Error"]
    assert copies_of_study(server, new_study) == copies   # nothing lost, nothing duplicated
    server.stop()


def test_send_job_resumes_after_sigterm(start_orthanc, tmp_path):
    """A send job (with "Store": the slowed-down copies) interrupted by a
    graceful stop resumes after the restart and delivers every instance."""
    from test_send import StoreScp
    scp = StoreScp("TRIAL_A", str(tmp_path))
    try:
        server = start_orthanc(config(tmp_path, {
            "DicomModalities": {"TRIAL_A": [scp.aet, "127.0.0.1", scp.port]},
            "Deidentification": {"Rules": {"List": [
                {"Name": "to-trial", "Destination": {"Kind": "Modality", "Name": "TRIAL_A"}, "Profile": "basic"}],
                "Uncovered": "Refuse"}}}), name="restart-send")
        answers = upload(server, make_study())
        study = answers[0]["ParentStudy"]
        job_id = server.post_json("/studies/%s/deidentify/send" % study,
                                  {"Modality": "TRIAL_A", "Store": True})["ID"]
        wait_for_progress(server, job_id)
        registry = restart(server)
        os.remove(os.path.join(str(tmp_path), "SLOW"))

        saved = registry["Jobs"][job_id]
        assert saved["State"] in ("Pending", "Running"), saved["State"]
        assert saved["Job"]["Type"] == "DeidentificationSend"
        operation = saved["Job"]["Operation"]
        assert 0 < operation["States"].count("P") < COUNT
        assert operation["Destination"] == {"Kind": "Modality", "Name": "TRIAL_A"}
        for value in (SECRET_NAME, SECRET_ID, "Secretname"):
            assert value not in json.dumps(saved)

        job = server.wait_for_job(job_id, timeout=120)
        assert job["State"] == "Success", json.dumps(job["Content"])
        content = job["Content"]
        assert content["InstancesCount"] == COUNT
        assert content["SentInstancesCount"] == COUNT
        assert content["Rules"] == ["to-trial"]
        assert len(set(content["StoredInstances"])) == COUNT
        datasets = scp.datasets()
        assert len({ds.SOPInstanceUID for ds in datasets}) == COUNT
        for ds in datasets:
            assert str(ds.PatientName) != SECRET_NAME and ds.PatientID != SECRET_ID
    finally:
        scp.stop()
