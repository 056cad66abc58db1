"""Option Clean Descriptors (PS3.15 E.3.5) in a real Orthanc: descriptors keep
their clinical words and lose the patient's values, unknown names, dates and
phone numbers; the output is as valid as the input (dciodvfy); the preview
says what was removed, by category only."""

import io
import os

import pydicom
import pydicom.uid
import pytest

from conftest import PYDICOM_TEST_FILES
from deid_checks import dciodvfy_errors, find_leaks

CT = os.path.join(PYDICOM_TEST_FILES, "CT_small.dcm")
OPTIONS = {"Options": ["CleanDescriptors"]}


@pytest.fixture(scope="module")
def source(orthanc, tmp_path_factory):
    ds = pydicom.dcmread(CT)
    # Its own patient ID and UIDs, so that this changed copy never stands in
    # for CT_small in the shared Orthanc (nor is deleted in its place).
    ds.PatientID = "CLEANDESC-1"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = pydicom.uid.generate_uid(), pydicom.uid.generate_uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
    # CT_small's patient is CompressedSamples^CT1, study date 20040119.
    ds.StudyDescription = "CT CHEST W CONTRAST CompressedSamples"
    ds.SeriesDescription = "AXIAL 1mm ct1 2004-01-19"
    ds.ProtocolName = "T2 FLAIR Dr Xylander"
    ds.ImageComments = "Uncompressed Smithers, call 555-1234"
    path = str(tmp_path_factory.mktemp("clean_descriptors") / "in.dcm")
    ds.save_as(path)
    instance = orthanc.upload(path)
    assert instance is not None
    yield path, instance
    orthanc.delete("/instances/" + instance["ID"])


def test_descriptors_keep_clinical_words_and_lose_identity(orthanc, source, tmp_path):
    path, instance = source
    r = orthanc.post("/instances/%s/deidentify" % instance["ID"], OPTIONS)
    assert r.status_code == 200, r.text
    out = pydicom.dcmread(io.BytesIO(r.content))
    assert out.StudyDescription == "CT CHEST W CONTRAST"
    assert out.SeriesDescription == "AXIAL 1mm"
    assert out.ProtocolName == "T2 FLAIR"
    assert out.ImageComments == "Uncompressed call"
    for removed in (b"CompressedSamples", b"Xylander", b"Smithers", b"555-1234", b"2004-01-19"):
        assert removed not in r.content, removed
    # No value the profile removes survives anywhere (the cleaned texts included).
    with open(path, "rb") as f:
        assert find_leaks(f.read(), r.content, ["CleanDescriptors"]) == []
    assert "CleanDescriptors" in str(out.DeidentificationMethod) or \
        "113105" in [item.CodeValue for item in out.DeidentificationMethodCodeSequence]

    # As valid as the input: no new dciodvfy error.
    written = str(tmp_path / "out.dcm")
    with open(written, "wb") as f:
        f.write(r.content)
    assert dciodvfy_errors(written) - dciodvfy_errors(path) == set()


def test_without_the_option_descriptors_are_removed(orthanc, source):
    _, instance = source
    r = orthanc.post("/instances/%s/deidentify" % instance["ID"], {"Options": []})
    out = pydicom.dcmread(io.BytesIO(r.content))
    assert "StudyDescription" not in out and "ProtocolName" not in out


def test_preview_reason_names_the_categories_only(orthanc, source):
    _, instance = source
    changes = orthanc.post_json("/instances/%s/deidentify/preview" % instance["ID"], OPTIONS)
    by_name = {c["Name"]: c for c in changes}
    study = by_name["StudyDescription"]
    assert study["Action"] == "C" and study["Option"] == "CleanDescriptors"
    assert study["After"] == "CT CHEST W CONTRAST"
    assert study["Reason"] == "C removed: identifying value"
    assert by_name["SeriesDescription"]["Reason"] == "C removed: identifying value"
    assert by_name["ProtocolName"]["Reason"] == "C removed: person name"
    assert by_name["ImageComments"]["Reason"] == "C removed: unknown word, phone number"
    for change in changes:
        reason = change.get("Reason", "")
        for text in ("CompressedSamples", "Xylander", "Smithers", "555", "2004"):
            assert text not in reason


def test_diagnosis_code_sequence_keeps_the_code_and_loses_the_patient(orthanc, tmp_path):
    # The C sequences and OB values of Clean Descriptors (DescriptorSequenceCleaning.cpp).
    ds = pydicom.dcmread(CT)
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID

    def code(value, scheme, meaning):
        item = pydicom.Dataset()
        item.CodeValue = value
        item.CodingSchemeDesignator = scheme
        item.CodeMeaning = meaning
        return item

    ds.AdmittingDiagnosesCodeSequence = [
        code("233604007", "SCT", "Pneumonia CompressedSamples 2004-01-19"),
        code("X1", "99HOSP", "CompressedSamples^CT1"),
    ]
    ds.add_new(0x0016002B, "OB", b"CompressedSamples vendor data")   # Maker Note
    path = str(tmp_path / "in.dcm")
    ds.save_as(path)
    instance = orthanc.upload(path)
    try:
        r = orthanc.post("/instances/%s/deidentify" % instance["ID"], OPTIONS)
        assert r.status_code == 200, r.text
        out = pydicom.dcmread(io.BytesIO(r.content))
        items = out.AdmittingDiagnosesCodeSequence
        assert [(i.CodeValue, i.CodingSchemeDesignator, i.CodeMeaning) for i in items] == \
            [("233604007", "SCT", "Pneumonia")]
        assert 0x0016002B not in out
        for removed in (b"CompressedSamples", b"99HOSP", b"2004-01-19"):
            assert removed not in r.content, removed

        changes = orthanc.post_json("/instances/%s/deidentify/preview" % instance["ID"], OPTIONS)
        reasons = {(c["Tag"], c["Action"]): c.get("Reason", "") for c in changes}
        assert reasons[("(0016,002B)", "X")] == "C: binary value cannot be cleaned"
        for change in changes:
            assert "CompressedSamples" not in change.get("Reason", "")

        written = str(tmp_path / "out.dcm")
        with open(written, "wb") as f:
            f.write(r.content)
        assert dciodvfy_errors(written) - dciodvfy_errors(path) == set()
    finally:
        orthanc.delete("/instances/" + instance["ID"])
