"""Sending de-identified data (POST /{level}/{id}/deidentify/send) to real
peers on loopback: two DCMTK storescp processes as DICOM modalities, a
second Orthanc as peer and, with the DICOMweb plugin, as STOW-RS server."""

import glob
import io
import os
import shutil
import socket
import subprocess
import tempfile
import time

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


class StoreScp:
    """A DCMTK storescp on a free loopback port writing into a temp dir."""

    def __init__(self, aet, base):
        self.aet = aet
        self.directory = tempfile.mkdtemp(prefix=aet + "-", dir=base)
        self.port = free_port()
        self.process = subprocess.Popen(
            [STORESCP, "-aet", aet, "+xa", "-od", self.directory, str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError("storescp %s did not start" % aet)

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


def sender_config(scps, target, extra=None):
    config = {
        "DicomModalities": {name: [scp.aet, "127.0.0.1", scp.port] for name, scp in scps.items()},
        "OrthancPeers": {"archive": {"Url": target.url + "/"}},
        "Plugins": [PLUGIN] + ([DICOMWEB_PLUGIN] if has_dicomweb() else []),
        "DicomWeb": {"Servers": {"cloud": [target.url + "/dicom-web/"]}},
    }
    for key, value in (extra or {}).items():
        config[key] = value
    return config


@pytest.fixture(scope="module")
def sender(start_orthanc, peers):
    scps, target = peers
    return start_orthanc(sender_config(scps, target), name="sender")


# --- Data --------------------------------------------------------------------


def make_study(series_count=2, per_series=2, patient_id=PATIENT_ID):
    """One study of series_count x per_series instances from CT_small.dcm."""
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
            ds.ContentDate = "20210315"
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
    assert sender.get_json(answer["Path"])["State"] == "Success"

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
        assert r.status_code == 400
        assert "orthanc-dicomweb" in r.json()["Details"]
    finally:
        plain.stop()


def test_failed_delivery_is_listed_by_instance(start_orthanc, sender, peers):
    # A modality that nobody listens on: each instance fails alone, by Orthanc ID.
    scps, target = peers
    config = sender_config(scps, target)
    config["DicomModalities"]["DOWN"] = ["DOWN", "127.0.0.1", free_port()]
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
        job = down.get_json(answer["Path"])
        assert job["State"] == "Failure"
        assert PATIENT_NAME not in str(job) and "SEND-DOWN-1" not in str(job)
        assert len(down.get_json("/instances")) == 2   # no copy left behind
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
    assert "Rules" in record["Details"]
    text = str(record)
    assert PATIENT_NAME not in text and "SEND-AUDIT-1" not in text
