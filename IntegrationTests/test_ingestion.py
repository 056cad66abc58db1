"""De-identification at ingestion (issue 8, item 4) against a real Orthanc:
instances received by C-STORE (DCMTK storescu) and by REST are
de-identified before they are stored, so the storage folder never holds an
identified instance; the plugin's own output is not de-identified twice."""

import glob
import io
import os

import pydicom
import pytest

from automatic_support import CT, MR, instance_id, make_instance, storescu, write

# Ingestion decided by the rules per destination (kind "Ingest"): CT by
# C-STORE and anything uploaded by REST is de-identified, the rest refused.
# (Orthanc 1.10 gives the ingestion callback no calling AET.)
INGESTION = {"Deidentification": {
    "Ingestion": {"Enable": True},
    "Rules": {"List": [
        {"Name": "scanners", "Destination": {"Kind": "Ingest"},
         "Origin": {"Kind": "DicomProtocol"}, "Match": {"Modality": "CT"}, "Profile": "research"},
        {"Name": "uploads", "Destination": {"Kind": "Ingest"}, "Origin": {"Kind": "RestApi"}, "Profile": "basic"},
        {"Name": "no-sr", "Destination": {"Kind": "Ingest"}, "Match": {"Modality": "SR"}, "Refuse": "no SR"},
        {"Name": "copies", "Destination": {"Kind": "Store"}, "Profile": "basic"},
    ]},
}}


def stored_datasets(orthanc):
    """Every DICOM file of the storage folder (attachments only, not the index or the key store)."""
    result = []
    for path in glob.glob(os.path.join(orthanc.storage_directory, "*", "*", "*")):
        try:
            result.append(pydicom.dcmread(path))
        except Exception:
            pass   # not a DICOM file
    return result


def assert_nothing_identified(orthanc, originals):
    datasets = stored_datasets(orthanc)
    assert datasets, "no DICOM file in the storage folder"
    raw = b"".join(open(p, "rb").read() for p in glob.glob(os.path.join(orthanc.storage_directory, "*", "*", "*"))
                   if not p.endswith(".db") and "-wal" not in p and "-shm" not in p)
    for ds in originals:
        for value in (str(ds.PatientName), ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID,
                      ds.SOPInstanceUID):
            assert value.encode() not in raw, "an original value is in the storage folder"
    for ds in datasets:
        assert ds.PatientIdentityRemoved == "YES"


def test_cstore_and_rest_instances_are_deidentified_before_storage(start_orthanc, tmp_path):
    orthanc = start_orthanc(INGESTION, name="ingest")
    try:
        ct, ct_ds = make_instance(CT, "INGEST-CT-1", "Doe^Ingested")
        mr, mr_ds = make_instance(MR, "INGEST-MR-1", "Roe^Ingested")
        storescu(orthanc, "CTSCANNER", write(str(tmp_path), "ct.dcm", ct))
        stored = orthanc.upload(mr)
        assert stored is not None

        assert instance_id(orthanc, ct_ds.SOPInstanceUID) is None
        assert instance_id(orthanc, mr_ds.SOPInstanceUID) is None
        instances = orthanc.get_json("/instances")
        assert len(instances) == 2
        for i in instances:
            tags = orthanc.get_json("/instances/%s/simplified-tags" % i)
            assert tags["PatientName"] not in ("Doe^Ingested", "Roe^Ingested")
            assert tags["PatientID"] not in ("INGEST-CT-1", "INGEST-MR-1")
        assert_nothing_identified(orthanc, [ct_ds, mr_ds])
        log = orthanc.read_log()
        assert "Doe^Ingested" not in log and "INGEST-CT-1" not in log
    finally:
        orthanc.stop()


def test_unmatched_instances_are_refused_and_never_stored(start_orthanc, tmp_path):
    orthanc = start_orthanc(INGESTION, name="ingest-refuse")
    try:
        mr, mr_ds = make_instance(MR, "INGEST-REF-1", "Doe^Refused")
        result = storescu(orthanc, "MRSCANNER", write(str(tmp_path), "mr.dcm", mr), check=False)   # no rule: MR
        assert result.returncode != 0, result.stderr    # storescu gets the failure status 0124H
        assert orthanc.get_json("/instances") == []
        ct, ct_ds = make_instance(CT, "INGEST-REF-2", "Doe^Refused")
        storescu(orthanc, "CTSCANNER", write(str(tmp_path), "ct.dcm", ct))
        assert len(orthanc.get_json("/instances")) == 1
        assert_nothing_identified(orthanc, [mr_ds, ct_ds])
        log = orthanc.read_log()
        assert "is refused (origin DicomProtocol, no rule covers it" in log
        assert "Doe^Refused" not in log and "INGEST-REF-1" not in log
    finally:
        orthanc.stop()


def test_refused_unmatched_can_be_stored_as_received_when_configured(start_orthanc):
    config = {"Deidentification": {"Ingestion": {"Enable": True, "RefuseUnmatched": False},
                                   "Rules": {"List": [{"Name": "no-ct", "Destination": {"Kind": "Ingest"},
                                                       "Match": {"Modality": "CT"}, "Refuse": "no CT"}]}}}
    orthanc = start_orthanc(config, name="ingest-open")
    try:
        refused = orthanc.post("/instances", make_instance(CT, "INGEST-OPEN-1", "Doe^Ct")[0]).json()
        assert refused["Status"] == "FilteredOut" and refused["ID"] == ""                 # refused by a rule
        mr, mr_ds = make_instance(MR, "INGEST-OPEN-2", "Doe^Mr")
        stored = orthanc.upload(mr)                                                      # no rule: as received
        assert stored is not None
        assert orthanc.get_json("/instances/%s/simplified-tags" % stored["ID"])["PatientID"] == "INGEST-OPEN-2"
    finally:
        orthanc.stop()


def test_own_output_is_not_deidentified_twice(start_orthanc):
    orthanc = start_orthanc(INGESTION, name="ingest-own")
    try:
        data, _ = make_instance(CT, "INGEST-OWN-1", "Doe^Own")
        source = orthanc.upload(data)["ID"]
        answer = orthanc.post("/instances/%s/deidentify" % source, {"Profile": "basic"}).content
        expected = pydicom.dcmread(io.BytesIO(answer))
        copy = orthanc.post_json("/instances/%s/deidentify" % source, {"Profile": "basic", "Store": True})["ID"]
        tags = orthanc.get_json("/instances/%s/simplified-tags" % copy)
        assert tags["SOPInstanceUID"] == expected.SOPInstanceUID
        assert tags["PatientID"] == expected.PatientID
    finally:
        orthanc.stop()


def test_bad_ingestion_configuration_is_refused(start_orthanc):
    server = start_orthanc({"Deidentification": {"Ingestion": {"Enable": "yes"}}}, expect_failure=True,
                           name="badingest")
    assert server.returncode != 0
    assert "Deidentification.Ingestion.Enable" in server.read_log()
