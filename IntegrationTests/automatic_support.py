"""Helpers of the automatic-rule and ingestion tests: fresh instances, DCMTK
storescu/storescp on loopback, and waiting for the automatic work to end."""

import glob
import io
import os
import subprocess
import time

import pydicom

from conftest import PYDICOM_TEST_FILES, free_port

CT = os.path.join(PYDICOM_TEST_FILES, "CT_small.dcm")
MR = os.path.join(PYDICOM_TEST_FILES, "MR_small.dcm")


def make_instance(path, patient_id, patient_name, study_uid=None, series_uid=None):
    """A copy of a pydicom test file with new UIDs and the given identity (bytes, and its dataset)."""
    ds = pydicom.dcmread(path)
    ds.PatientID = patient_id
    ds.PatientName = patient_name
    ds.StudyInstanceUID = study_uid or pydicom.uid.generate_uid()
    ds.SeriesInstanceUID = series_uid or pydicom.uid.generate_uid()
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    buffer = io.BytesIO()
    ds.save_as(buffer, write_like_original=False)
    return buffer.getvalue(), ds


def write(directory, name, data):
    path = os.path.join(directory, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def storescu(orthanc, calling_aet, *paths, check=True):
    """C-STORE of files into Orthanc under a calling AET; returns the completed process."""
    result = subprocess.run(["storescu", "-aet", calling_aet, "-aec", orthanc.config["DicomAet"],
                             "127.0.0.1", str(orthanc.dicom_port)] + list(paths),
                            capture_output=True, text=True, timeout=60)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


class StoreScp:
    """DCMTK storescp writing every received file into a directory."""

    def __init__(self, directory, aet="TRIAL", port=None):
        self.directory = directory
        self.aet = aet
        self.port = port or free_port()
        self.process = None

    def start(self):
        os.makedirs(self.directory, exist_ok=True)
        self.process = subprocess.Popen(["storescp", "-aet", self.aet, "-od", self.directory, str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        return self

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def files(self):
        return sorted(glob.glob(os.path.join(self.directory, "*")))


def automatic(orthanc):
    return orthanc.get_json("/deidentification/automatic")


def wait_until_idle(orthanc, timeout=30, minimum_done=0):
    """Waits until no automatic work is pending or running (and at least minimum_done items are done)."""
    deadline = time.time() + timeout
    state = None
    while time.time() < deadline:
        state = automatic(orthanc)
        counts = state["Counts"]
        if counts["Pending"] == 0 and counts["Running"] == 0 and counts["Done"] >= minimum_done:
            return state
        time.sleep(0.2)
    raise AssertionError("automatic work still pending: %s" % state)


def copies_of(orthanc, source_id):
    """Orthanc IDs of the instances whose DeidentifiedFrom metadata is source_id."""
    result = []
    for instance in orthanc.get_json("/instances"):
        r = orthanc.get("/instances/%s/metadata/DeidentifiedFrom" % instance, check=False)
        if r.status_code == 200 and r.text == source_id:
            result.append(instance)
    return result


def instance_id(orthanc, sop_instance_uid):
    found = orthanc.post_json("/tools/lookup", sop_instance_uid)
    ids = [f["ID"] for f in found if f["Type"] == "Instance"]
    return ids[0] if ids else None
