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

INGESTION = {"Deidentification": {"Ingestion": {"Enable": True}}}


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


def test_own_output_is_not_deidentified_twice(start_orthanc):
    orthanc = start_orthanc(INGESTION, name="ingest-own")
    try:
        data, _ = make_instance(CT, "INGEST-OWN-1", "Doe^Own")
        source = orthanc.upload(data)["ID"]
        answer = orthanc.post("/instances/%s/deidentify" % source, {}).content
        expected = pydicom.dcmread(io.BytesIO(answer))
        copy = orthanc.post_json("/instances/%s/deidentify" % source, {"Store": True})["ID"]
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
