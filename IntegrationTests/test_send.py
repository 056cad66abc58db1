"""Sending de-identified data (POST /{level}/{id}/deidentify/send) to real
peers on loopback: two DCMTK storescp processes as DICOM modalities, a
second Orthanc as peer and, with the DICOMweb plugin, as STOW-RS server."""

import glob
import json
import io
import os
import shutil
import socket
import subprocess
import tempfile
import time
import datetime

import pydicom
import pydicom.uid
import pytest

from conftest import PLUGIN, free_port

PYDICOM_CT = "/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm"
DICOMWEB_PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"
STORESCP = shutil.which("storescp") or "/usr/bin/storescp"

PATIENT_NAME = "Sender^Patricia"
PATIENT_ID = "SEND-PID-4711"


# --- Peers -------------------------------------------------------------------


def wait_for_port(port, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listens on port %d" % port)


class StoreScp:
    """A DCMTK storescp on a free loopback port writing into a temp dir."""

    def __init__(self, aet, base, port=None):
        self.aet = aet
        self.directory = tempfile.mkdtemp(prefix=aet + "-", dir=base)
        self.port = port or free_port()
        self.process = subprocess.Popen(
            [STORESCP, "-aet", aet, "+xa", "-od", self.directory, str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def files(self):
        return sorted(f for f in glob.glob(os.path.join(self.directory, "*")) if os.path.isfile(f))

    def datasets(self):
        return [pydicom.dcmread(f) for f in self.files()]

    def clear(self):
        for f in self.files():
            os.remove(f)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def has_dicomweb():
    return os.path.exists(DICOMWEB_PLUGIN)


@pytest.fixture(scope="module")
def peers(start_orthanc, orthanc_workdir):
    """Two storescp modalities, and a second Orthanc (DICOMweb plugin when
    installed) used both as Orthanc peer and as STOW-RS server."""
    scps = {"TRIAL_A": StoreScp("TRIAL_A", orthanc_workdir), "TRIAL_B": StoreScp("TRIAL_B", orthanc_workdir)}
    target = start_orthanc({"Name": "Target", "DicomAet": "TARGET",
                            "Plugins": [DICOMWEB_PLUGIN] if has_dicomweb() else []},
                           name="target", plugin=False)
    yield scps, target
    for scp in scps.values():
        scp.stop()


# Each destination its own rule: TRIAL_A gets shifted dates (project
# "trial"), TRIAL_B the Basic Profile; secondary captures go nowhere; the
# modality UNCOVERED has no rule (fail closed).
RULES = {
    "List": [
        {"Name": "no-secondary-capture", "Destination": {"Kind": "Modality"}, "Match": {"Modality": "OT"},
         "Refuse": "no secondary captures to modalities"},
        {"Name": "trial-a-longitudinal", "Destination": {"Kind": "Modality", "Name": "TRIAL_A"},
         "Profile": "longitudinal", "Project": "trial"},
        {"Name": "trial-b-basic", "Destination": {"Kind": "Modality", "Name": ["TRIAL_B", "DOWN"]},
         "Profile": "basic"},
        {"Name": "archive", "Destination": {"Kind": ["Peer", "DicomWeb"]}, "Profile": "basic"},
    ],
    "Uncovered": "Refuse",
}


def sender_config(scps, target):
    modalities = {name: [scp.aet, "127.0.0.1", scp.port] for name, scp in scps.items()}
    modalities["UNCOVERED"] = ["UNCOVERED", "127.0.0.1", scps["TRIAL_A"].port]
    return {
        "DicomModalities": modalities,
        "OrthancPeers": {"archive": {"Url": target.url + "/"}},
        "Plugins": [PLUGIN] + ([DICOMWEB_PLUGIN] if has_dicomweb() else []),
        "DicomWeb": {"Servers": {"cloud": [target.url + "/dicom-web/"]}},
        "Deidentification": {
            "Profiles": {"longitudinal": {"Options": ["RetainLongitudinalModifiedDates"]}},
            "Projects": {"trial": {"Pseudonym": {"Prefix": "TRIAL", "Digits": 6}}},
            "Rules": RULES,
        },
    }


@pytest.fixture(scope="module")
def sender(start_orthanc, peers):
    scps, target = peers
    return start_orthanc(sender_config(scps, target), name="sender")


# --- Data --------------------------------------------------------------------


def make_study(series_count=2, per_series=2, patient_id=PATIENT_ID, modality="CT"):
    """One study of series_count x per_series instances from CT_small.dcm;
    the last series has the given Modality."""
    study = pydicom.uid.generate_uid()
    files = []
    for s in range(series_count):
        series = pydicom.uid.generate_uid()
        for i in range(per_series):
            ds = pydicom.dcmread(PYDICOM_CT)
            ds.PatientName = PATIENT_NAME
            ds.PatientID = patient_id
            ds.StudyInstanceUID = study
            ds.SeriesInstanceUID = series
            ds.SeriesNumber = s + 1
            ds.InstanceNumber = i + 1
            ds.SOPInstanceUID = pydicom.uid.generate_uid()
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            ds.StudyDate = "20210315"
            ds.SeriesDate = "20210315"
            ds.ContentDate = "20210316"
            if s == series_count - 1:
                ds.Modality = modality
            buffer = io.BytesIO()
            ds.save_as(buffer, write_like_original=False)
            files.append(buffer.getvalue())
    return files


def upload_study(server, files):
    study = None
    uids = set()
    for data in files:
        answer = server.upload(data)
        assert answer is not None
        study = answer["ParentStudy"]
        ds = pydicom.dcmread(io.BytesIO(data))
        uids.update([ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID])
    return study, uids


def send(server, level, resource, body, status=200):
    r = server.post("/%s/%s/deidentify/send" % (level, resource), body, check=False)
    assert r.status_code == status, r.text
    return r.json() if r.text else None


def assert_deidentified(datasets, original_uids):
    assert datasets
    for ds in datasets:
        assert str(ds.PatientName) != PATIENT_NAME
        assert ds.PatientID != PATIENT_ID
        assert ds.PatientIdentityRemoved == "YES"
        for uid in (ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID,
                    ds.file_meta.MediaStorageSOPInstanceUID):
            assert uid not in original_uids
        raw = ds.to_json()
        assert PATIENT_NAME not in raw and PATIENT_ID not in raw


def assert_one_study(datasets, series_count):
    assert len({ds.StudyInstanceUID for ds in datasets}) == 1
    assert len({ds.SeriesInstanceUID for ds in datasets}) == series_count
    assert len({ds.SOPInstanceUID for ds in datasets}) == len(datasets)
    assert len({ds.PatientID for ds in datasets}) == 1
    for ds in datasets:
        assert ds.SOPInstanceUID == ds.file_meta.MediaStorageSOPInstanceUID


def days_between(a, b):
    return (datetime.datetime.strptime(b, "%Y%m%d") - datetime.datetime.strptime(a, "%Y%m%d")).days


def instances_count(server):
    return len(server.get_json("/instances"))


# --- Sending -----------------------------------------------------------------


def test_send_study_to_modality_by_cstore(sender, peers):
    scps, _ = peers
    scp = scps["TRIAL_A"]
    scp.clear()
    study, uids = upload_study(sender, make_study())
    before = instances_count(sender)

    answer = send(sender, "studies", study, {"Modality": "TRIAL_A", "Synchronous": True})
    assert answer["SentInstancesCount"] == 4, answer
    assert answer["FailedInstancesCount"] == 0 and answer["RefusedInstancesCount"] == 0
    assert sender.get_json(answer["Path"])["State"] == "Success"   # final when answered

    received = scp.datasets()
    assert len(received) == 4
    assert_deidentified(received, uids)
    assert_one_study(received, 2)
    assert instances_count(sender) == before   # no de-identified copy kept


def test_study_sent_instance_by_instance_keeps_its_uids(sender, peers):
    scps, _ = peers
    scp = scps["TRIAL_B"]
    scp.clear()
    study, uids = upload_study(sender, make_study())
    whole = send(sender, "studies", study, {"Modality": "TRIAL_B", "Synchronous": True})
    assert whole["SentInstancesCount"] == 4
    first = {ds.SOPInstanceUID: ds for ds in scp.datasets()}
    scp.clear()

    # The same study, one instance per job, asynchronous.
    for instance in sender.get_json("/studies/%s/instances" % study):
        job = send(sender, "instances", instance["ID"], {"Modality": "TRIAL_B"})
        assert set(job) == {"ID", "Path"}
        state = sender.wait_for_job(job["ID"])
        assert state["State"] == "Success" and state["Progress"] == 100
    second = scp.datasets()
    assert_deidentified(second, uids)
    assert_one_study(second, 2)
    assert {ds.SOPInstanceUID for ds in second} == set(first)
    for ds in second:
        other = first[ds.SOPInstanceUID]
        assert (ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.PatientID) == \
            (other.StudyInstanceUID, other.SeriesInstanceUID, other.PatientID)


def test_send_to_peer_keeps_no_copy_unless_store(sender, peers):
    _, target = peers
    study, uids = upload_study(sender, make_study(series_count=1, per_series=3, patient_id="SEND-PEER-1"))
    before = instances_count(sender)
    target_before = set(target.get_json("/instances"))

    answer = send(sender, "studies", study, {"Peer": "archive", "Synchronous": True})
    assert answer["SentInstancesCount"] == 3, answer
    assert instances_count(sender) == before
    received = set(target.get_json("/instances")) - target_before
    assert len(received) == 3
    datasets = [pydicom.dcmread(io.BytesIO(target.get("/instances/%s/file" % i).content)) for i in received]
    assert_deidentified(datasets, uids)
    assert_one_study(datasets, 1)

    # "Store": true keeps exactly one copy per instance, also when sent twice.
    for _ in range(2):
        answer = send(sender, "studies", study, {"Peer": "archive", "Store": True, "Synchronous": True})
        assert answer["SentInstancesCount"] == 3
        assert len(answer["StoredInstances"]) == 3
    assert instances_count(sender) == before + 3
    for copy in answer["StoredInstances"]:
        assert sender.get("/instances/%s/metadata/DeidentifiedFrom" % copy).text in \
            [i["ID"] for i in sender.get_json("/studies/%s/instances" % study)]
        assert sender.get_json("/instances/%s/simplified-tags" % copy)["PatientID"] != "SEND-PEER-1"
    # The peer got the same copies again (same UIDs): still 3 instances.
    assert len(set(target.get_json("/instances")) - target_before) == 3


@pytest.mark.skipif(not has_dicomweb(), reason="orthanc-dicomweb is not installed (%s)" % DICOMWEB_PLUGIN)
def test_send_to_dicomweb_server_by_stow_rs(sender, peers):
    _, target = peers
    study, uids = upload_study(sender, make_study(series_count=1, per_series=2, patient_id="SEND-WEB-1"))
    before = instances_count(sender)
    target_before = set(target.get_json("/instances"))

    answer = send(sender, "studies", study, {"DicomWeb": "cloud", "Synchronous": True})
    assert answer["SentInstancesCount"] == 2, answer
    received = set(target.get_json("/instances")) - target_before
    assert len(received) == 2
    datasets = [pydicom.dcmread(io.BytesIO(target.get("/instances/%s/file" % i).content)) for i in received]
    assert_deidentified(datasets, uids)
    assert_one_study(datasets, 1)
    assert instances_count(sender) == before   # the copy the plugin sent from is gone


@pytest.mark.parametrize("body,status,needle", [
    ({"Modality": "NOWHERE"}, 404, "NOWHERE"),
    ({"Peer": "nobody"}, 404, "nobody"),
    ({"DicomWeb": "no-server"}, 404, "no-server"),
    ({}, 400, "destination"),
    ({"Modality": "TRIAL_A", "Peer": "archive"}, 400, "exactly one"),
    ({"Modality": "TRIAL_A", "KeepSource": False}, 400, "KeepSource"),
    ({"Modality": ""}, 400, "Modality"),
    ({"Modality": "TRIAL_A", "Store": "yes"}, 400, "Store"),
])
def test_bad_send_requests_are_refused_up_front(sender, peers, body, status, needle):
    if "DicomWeb" in body and not has_dicomweb():
        pytest.skip("orthanc-dicomweb is not installed")
    scps, target = peers
    study, _ = upload_study(sender, make_study(series_count=1, per_series=1, patient_id="SEND-BAD-1"))
    jobs = len(sender.get_json("/jobs"))
    target_count = len(target.get_json("/instances"))
    received = [len(scp.files()) for scp in scps.values()]

    r = sender.post("/studies/%s/deidentify/send" % study, body, check=False)
    assert r.status_code == status, r.text
    assert needle in r.json().get("Details", ""), r.text
    assert len(sender.get_json("/jobs")) == jobs
    assert len(target.get_json("/instances")) == target_count
    assert [len(scp.files()) for scp in scps.values()] == received


def test_unknown_resource_is_404(sender):
    r = sender.post("/studies/no-such-study/deidentify/send", {"Modality": "TRIAL_A"}, check=False)
    assert r.status_code == 404


def test_dicomweb_without_the_plugin_is_refused(start_orthanc, peers):
    scps, target = peers
    config = sender_config(scps, target)
    config["Plugins"] = [PLUGIN]
    plain = start_orthanc(config, name="nodicomweb")
    try:
        study, _ = upload_study(plain, make_study(series_count=1, per_series=1, patient_id="SEND-BAD-2"))
        r = plain.post("/studies/%s/deidentify/send" % study, {"DicomWeb": "cloud"}, check=False)
        assert r.status_code == 404
        assert "DICOMweb plugin is not loaded" in r.json()["Details"]
    finally:
        plain.stop()


def test_failed_delivery_is_listed_by_instance_and_resubmitted(start_orthanc, orthanc_workdir, peers):
    # A modality that nobody listens on: each instance fails alone, by Orthanc ID.
    scps, target = peers
    config = sender_config(scps, target)
    down_port = free_port()
    config["DicomModalities"]["DOWN"] = ["DOWN", "127.0.0.1", down_port]
    config["DicomScuTimeout"] = 2
    down = start_orthanc(config, name="down")
    try:
        study, _ = upload_study(down, make_study(series_count=1, per_series=2, patient_id="SEND-DOWN-1"))
        answer = send(down, "studies", study, {"Modality": "DOWN", "Synchronous": True})
        assert answer["FailedInstancesCount"] == 2 and answer["SentInstancesCount"] == 0
        ids = {i["ID"] for i in down.get_json("/studies/%s/instances" % study)}
        assert {f["Instance"] for f in answer["FailedInstances"]} == ids
        for f in answer["FailedInstances"]:
            assert f["Instance"] in f["Error"] and "DOWN" in f["Error"]
        job = down.wait_for_job(answer["ID"])
        assert job["State"] == "Failure"
        assert PATIENT_NAME not in str(job) and "SEND-DOWN-1" not in str(job)
        assert len(down.get_json("/instances")) == 2   # no copy left behind

        # Once the modality is up, resubmitting the job sends the failed instances.
        scp = StoreScp("DOWN", orthanc_workdir, port=down_port)
        try:
            down.post(answer["Path"] + "/resubmit", {})
            job = down.wait_for_job(answer["ID"])
            assert job["State"] == "Success", job
            assert job["Content"]["SentInstancesCount"] == 2 and job["Content"]["FailedInstances"] == []
            assert len(scp.files()) == 2
        finally:
            scp.stop()
    finally:
        down.stop()


def test_audit_records_the_send(sender, peers):
    study, _ = upload_study(sender, make_study(series_count=1, per_series=2, patient_id="SEND-AUDIT-1"))
    answer = send(sender, "studies", study, {"Modality": "TRIAL_A", "Synchronous": True})
    records = sender.get_json("/deidentification/audit?limit=1000")["Records"]
    record = [r for r in records if r["Details"].get("JobID") == answer["ID"]]
    assert len(record) == 1, records[-3:]
    record = record[0]
    assert record["Operation"] == "send"
    assert record["Status"] == "Success"
    assert record["Source"] == [study]
    assert record["Details"]["Destination"] == 'Modality "TRIAL_A"'
    assert record["Details"]["SentInstances"] == 2
    assert record["Details"]["RefusedInstances"] == 0
    assert record["Details"]["FailedInstances"] == 0
    assert record["Details"]["Rules"] == ["trial-a-longitudinal"]
    assert record["Profile"] == "longitudinal"
    assert record["Options"] == "RetainLongitudinalModifiedDates"
    assert record["Project"] == "trial"
    text = str(record)
    assert PATIENT_NAME not in text and "SEND-AUDIT-1" not in text


# --- Rules per destination -----------------------------------------------------

METHOD_CODES = "DeidentificationMethodCodeSequence"


def codes(ds):
    return {item.CodeValue for item in ds.get(METHOD_CODES, [])}


def test_each_modality_gets_its_own_options(sender, peers):
    scps, _ = peers
    for scp in scps.values():
        scp.clear()
    study, uids = upload_study(sender, make_study())
    for name in ("TRIAL_A", "TRIAL_B"):
        answer = send(sender, "studies", study, {"Modality": name, "Synchronous": True})
        assert answer["SentInstancesCount"] == 4, answer
    a, b = scps["TRIAL_A"].datasets(), scps["TRIAL_B"].datasets()
    assert len(a) == 4 and len(b) == 4
    for received in (a, b):
        assert_deidentified(received, uids)
        assert_one_study(received, 2)

    # TRIAL_A: RetainLongitudinalModifiedDates (113107), dates shifted by one
    # offset, intervals kept, pseudonyms of the project "trial".
    for ds in a:
        assert "113107" in codes(ds)
        assert ds.LongitudinalTemporalInformationModified == "MODIFIED"
        assert ds.StudyDate not in ("", "20210315", "19000101")
        shift = days_between("20210315", ds.StudyDate)
        assert -3650 <= shift <= -1
        assert days_between("20210316", ds.ContentDate) == shift
        assert ds.PatientID.startswith("TRIAL")
    # TRIAL_B: the Basic Profile only: no date survives.
    for ds in b:
        assert "113107" not in codes(ds) and "113100" in codes(ds)
        assert ds.get("StudyDate", "") in ("", "19000101")
        assert ds.get("ContentDate", "") in ("", "19000101")
        assert not ds.PatientID.startswith("TRIAL")
    # Two different de-identified versions never share UIDs.
    assert a[0].StudyInstanceUID != b[0].StudyInstanceUID
    assert not {ds.SOPInstanceUID for ds in a} & {ds.SOPInstanceUID for ds in b}


def test_refused_instances_are_never_sent(sender, peers):
    scps, _ = peers
    scp = scps["TRIAL_B"]
    scp.clear()
    study, _ = upload_study(sender, make_study(series_count=2, per_series=2, patient_id="SEND-REFUSE-1",
                                               modality="OT"))
    refused_ids = {i["ID"] for i in sender.get_json("/studies/%s/instances" % study)
                   if sender.get_json("/instances/%s/simplified-tags" % i["ID"])["Modality"] == "OT"}
    assert len(refused_ids) == 2

    answer = send(sender, "studies", study, {"Modality": "TRIAL_B", "Synchronous": True})
    assert answer["SentInstancesCount"] == 2 and answer["RefusedInstancesCount"] == 2, answer
    assert answer["FailedInstancesCount"] == 0
    assert {r["Instance"] for r in answer["RefusedInstances"]} == refused_ids
    for r in answer["RefusedInstances"]:
        assert r["Rule"] == "no-secondary-capture"
        assert "no secondary captures to modalities" in r["Reason"] and r["Instance"] in r["Reason"]
    assert sorted(answer["Rules"]) == ["no-secondary-capture", "trial-b-basic"]
    received = scp.datasets()
    assert len(received) == 2 and all(ds.Modality == "CT" for ds in received)

    job = sender.wait_for_job(answer["ID"])
    assert job["State"] == "Failure"
    text = str(job)
    assert PATIENT_NAME not in text and "SEND-REFUSE-1" not in text and "20210315" not in text

    records = sender.get_json("/deidentification/audit?limit=1000")["Records"]
    record = [r for r in records if r["Details"].get("JobID") == answer["ID"]][0]
    assert record["Status"] == "Partial"
    assert record["Details"]["RefusedInstances"] == 2 and record["Details"]["SentInstances"] == 2


def test_destination_without_rule_gets_nothing(sender, peers):
    scps, _ = peers
    scp = scps["TRIAL_A"]   # UNCOVERED is the same storescp
    scp.clear()
    study, _ = upload_study(sender, make_study(series_count=1, per_series=2, patient_id="SEND-UNCOV-1"))
    before = instances_count(sender)
    answer = send(sender, "studies", study, {"Modality": "UNCOVERED", "Store": True, "Synchronous": True})
    assert answer["RefusedInstancesCount"] == 2 and answer["SentInstancesCount"] == 0, answer
    assert all("no rule covers" in r["Reason"] for r in answer["RefusedInstances"])
    assert scp.files() == []
    assert instances_count(sender) == before   # nothing stored either
    assert sender.wait_for_job(answer["ID"])["State"] == "Failure"


# --- The README's walkthrough, as written --------------------------------------

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")


def readme_block(marker):
    with open(README) as f:
        text = f.read()
    start = text.index("<!-- %s -->" % marker)
    begin = text.index("```", start)
    begin = text.index("\n", begin) + 1
    return text[begin:text.index("```", begin)]


def test_readme_walkthrough(start_orthanc, orthanc_workdir, tmp_path):
    trial = str(tmp_path / "trial")
    receiver = readme_block("send-walkthrough-receiver").strip()
    assert receiver.startswith("mkdir -p /tmp/trial && ") and receiver.endswith(" &")
    command = receiver[len("mkdir -p /tmp/trial && "):-2].split()
    port = free_port()
    command = [trial if c == "/tmp/trial" else str(port) if c == "11112" else c for c in command]
    os.makedirs(trial)
    scp = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        config = json.loads(readme_block("send-walkthrough-configuration"))
        assert config["DicomModalities"]["TRIAL"][2] == 11112
        config["DicomModalities"]["TRIAL"][2] = port
        config["DicomModalities"]["PACS"] = ["PACS", "127.0.0.1", port]
        server = start_orthanc(config, name="walkthrough")

        script = readme_block("send-walkthrough-commands")
        script = script.replace("http://127.0.0.1:8042", server.url).replace("/tmp/trial", trial)
        result = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        out = result.stdout
        assert '"Allowed" : true' in out and '"Rule" : "trial"' in out, out
        assert '"SentInstancesCount" : 1' in out, out
        assert '"Operation" : "send"' in out and 'Modality \\"TRIAL\\"' in out, out

        files = [f for f in os.listdir(trial) if f.startswith("CT.")]
        assert len(files) == 1 and files[0] in out
        ds = pydicom.dcmread(os.path.join(trial, files[0]))
        original = pydicom.dcmread(PYDICOM_CT)
        assert ds.PatientID.startswith("TRIAL") and len(ds.PatientID) == len("TRIAL") + 6
        assert ds.LongitudinalTemporalInformationModified == "MODIFIED"
        assert ds.StudyDate != original.StudyDate and -3650 <= days_between(original.StudyDate, ds.StudyDate) <= -1
        assert ds.SOPInstanceUID != original.SOPInstanceUID and files[0] == "CT." + ds.SOPInstanceUID

        # Any other modality: refused, nothing sent.
        study = server.get_json("/studies")[0]
        answer = send(server, "studies", study, {"Modality": "PACS", "Synchronous": True})
        assert answer["RefusedInstancesCount"] == 1 and answer["SentInstancesCount"] == 0
        assert len(os.listdir(trial)) == 1
        server.stop()
    finally:
        scp.terminate()
        scp.wait(timeout=10)


def test_sender_log_holds_no_patient_value(sender):
    # Runs last in this module: every send above logged through this Orthanc.
    log = sender.read_log()
    assert "is not sent to Modality" in log   # the refusals were logged
    for value in (PATIENT_NAME, PATIENT_ID, "SEND-PEER-1", "SEND-WEB-1", "SEND-REFUSE-1", "SEND-AUDIT-1",
                  "Sender", "Patricia"):
        assert value not in log
