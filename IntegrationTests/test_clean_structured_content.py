"""Clean Structured Content (PS3.15 E.3.4) through a real Orthanc.

POST /tools/deidentify with the option CleanStructuredContent on a crafted
Comprehensive SR (nested CONTAINER > TEXT / PNAME / DATE / TIME / DATETIME /
UIDREF / NUM / CODE / IMAGE items carrying the patient's name, MRN, dates and
a phone number next to clinical text), on pydicom's reportsi.dcm and
test-SR.dcm, and on waveform_ecg.dcm (Waveform Annotation Sequence):
  - no identifying value of the instance survives, anywhere (every element,
    at any depth, read back with pydicom, and the raw bytes);
  - the tree keeps its shape (items, ValueTypes, RelationshipTypes, concept
    names), its codes and its numbers;
  - UIDREF and referenced UIDs are remapped like the rest of the instance;
  - PNAME of the patient is the patient's pseudonym, other names a dummy;
  - dciodvfy and PixelMed's DicomSRValidator show no new errors.
The assertions hold with the conservative text cleaner (every text becomes
"REMOVED") and with a real one (clinical words kept): see
test_clinical_words_kept_when_the_cleaner_keeps_text.
"""

import io
import os
import re
import subprocess
import tempfile

import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from conftest import PYDICOM_TEST_FILES
from deid_checks import dciodvfy_errors

COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
PATIENT_NAME = "Kowalczyk^Marianne"
MRN = "MRN4471902"
PHONE = "555-867-5309"
OBSERVER = "Hartmann^Oskar"
STUDY_UID = "1.2.826.0.1.3680043.2.1125.4471.1"
SERIES_UID = "1.2.826.0.1.3680043.2.1125.4471.2"
SOP_UID = "1.2.826.0.1.3680043.2.1125.4471.3"
IMAGE_UID = "1.2.826.0.1.3680043.2.1125.4471.9"
IMAGE_SERIES_UID = "1.2.826.0.1.3680043.2.1125.4471.8"
DEVICE_UID = "1.2.826.0.1.3680043.2.1125.4471.7"
CLINICAL = "mass in the left upper lobe"
# What must not survive in the crafted SR (besides the original UIDs).
IDENTIFIERS = ["Kowalczyk", "Marianne", MRN, "4471902", PHONE, "867-5309", "Hartmann", "Oskar",
               "20240311", "03/11/2024", "19610412", "ACC99812"]

SR_VALIDATOR_JAR = "/usr/share/java/pixelmed.jar"
SR_VALIDATOR_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "SrValidate.java")


def code(value, scheme, meaning):
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def content_item(relationship, value_type, concept, **values):
    item = Dataset()
    if relationship:
        item.RelationshipType = relationship
    item.ValueType = value_type
    item.ConceptNameCodeSequence = Sequence([code(*concept)])
    for keyword, value in values.items():
        setattr(item, keyword, value)
    return item


def crafted_sr():
    """A Comprehensive SR whose content tree carries the patient's identity."""
    ds = Dataset()
    ds.SOPClassUID = COMPREHENSIVE_SR
    ds.SOPInstanceUID = SOP_UID
    ds.StudyInstanceUID = STUDY_UID
    ds.SeriesInstanceUID = SERIES_UID
    ds.PatientName = PATIENT_NAME
    ds.PatientID = MRN
    ds.PatientBirthDate = "19610412"
    ds.PatientSex = "F"
    ds.StudyDate = "20240311"
    ds.StudyTime = "093015"
    ds.ContentDate = "20240311"
    ds.ContentTime = "101500"
    ds.AccessionNumber = "ACC99812"
    ds.ReferringPhysicianName = ""
    ds.StudyID = "S1"
    ds.Modality = "SR"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.Manufacturer = "Test"
    ds.CompletionFlag = "COMPLETE"
    ds.VerificationFlag = "UNVERIFIED"
    ds.ReferencedPerformedProcedureStepSequence = Sequence()
    ds.PerformedProcedureCodeSequence = Sequence()
    reference = Dataset()
    reference.ReferencedSOPClassUID = CT_IMAGE
    reference.ReferencedSOPInstanceUID = IMAGE_UID
    series = Dataset()
    series.SeriesInstanceUID = IMAGE_SERIES_UID
    series.ReferencedSOPSequence = Sequence([reference])
    evidence = Dataset()
    evidence.StudyInstanceUID = STUDY_UID
    evidence.ReferencedSeriesSequence = Sequence([series])
    ds.CurrentRequestedProcedureEvidenceSequence = Sequence([evidence])

    image_reference = Dataset()
    image_reference.ReferencedSOPClassUID = CT_IMAGE
    image_reference.ReferencedSOPInstanceUID = IMAGE_UID
    measured = Dataset()
    measured.NumericValue = "23.5"
    measured.MeasurementUnitsCodeSequence = Sequence([code("mm", "UCUM", "millimeter")])

    findings = content_item("CONTAINS", "CONTAINER", ("121070", "DCM", "Findings"), ContinuityOfContent="SEPARATE")
    findings.ContentSequence = Sequence([
        content_item("CONTAINS", "TEXT", ("121071", "DCM", "Finding"),
                     TextValue="Mass in the left upper lobe. Patient Marianne Kowalczyk %s, call %s, seen 03/11/2024."
                     % (MRN, PHONE)),
        content_item("CONTAINS", "TEXT", ("121071", "DCM", "Finding"), TextValue=CLINICAL),
        content_item("CONTAINS", "PNAME", ("121029", "DCM", "Subject Name"), PersonName=PATIENT_NAME),
        content_item("CONTAINS", "DATE", ("111060", "DCM", "Study Date"), Date="20240311"),
        content_item("CONTAINS", "TIME", ("111061", "DCM", "Study Time"), Time="093015"),
        content_item("CONTAINS", "DATETIME", ("111526", "DCM", "DateTime Started"), DateTime="20240311093015"),
        content_item("CONTAINS", "UIDREF", ("110180", "DCM", "Study Instance UID"), UID=STUDY_UID),
        content_item("CONTAINS", "NUM", ("G-D7FE", "SRT", "Diameter"),
                     MeasuredValueSequence=Sequence([measured])),
        content_item("CONTAINS", "CODE", ("121071", "DCM", "Finding"),
                     ConceptCodeSequence=Sequence([code("4147007", "SCT", "Mass")])),
        content_item("CONTAINS", "IMAGE", ("121112", "DCM", "Source of Measurement"),
                     ReferencedSOPSequence=Sequence([image_reference])),
    ])
    root = content_item(None, "CONTAINER", ("18748-4", "LN", "Diagnostic Imaging Report"),
                        ContinuityOfContent="SEPARATE")
    ds.ValueType = root.ValueType
    ds.ConceptNameCodeSequence = root.ConceptNameCodeSequence
    ds.ContinuityOfContent = root.ContinuityOfContent
    ds.ContentSequence = Sequence([
        content_item("HAS OBS CONTEXT", "PNAME", ("121008", "DCM", "Person Observer Name"), PersonName=OBSERVER),
        content_item("HAS OBS CONTEXT", "TEXT", ("121009", "DCM", "Person Observer's Organization Name"),
                     TextValue="Hartmann Radiology, phone %s" % PHONE),
        content_item("HAS OBS CONTEXT", "UIDREF", ("121012", "DCM", "Device Observer UID"), UID=DEVICE_UID),
        findings,
    ])

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = COMPREHENSIVE_SR
    meta.MediaStorageSOPInstanceUID = SOP_UID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    out = io.BytesIO()
    ds.save_as(out, write_like_original=False)
    return out.getvalue()


def deidentify(orthanc, data, options):
    response = orthanc.post("/tools/deidentify", data, headers={
        "Content-Type": "application/dicom", "X-Deidentification-Options": options})
    assert response.status_code == 200, response.text[:500]
    return response.content


def read(data):
    return pydicom.dcmread(io.BytesIO(data), force=True)


def tree(dataset):
    """The shape of an SR content tree: (depth, RelationshipType, ValueType, concept name code)."""
    shape = []

    def visit(items, depth):
        for item in items:
            concept = item.ConceptNameCodeSequence[0].CodeValue if item.get("ConceptNameCodeSequence") else None
            shape.append((depth, item.get("RelationshipType"), item.get("ValueType"), concept))
            visit(item.get("ContentSequence", []), depth + 1)

    visit(dataset.get("ContentSequence", []), 0)
    return shape


def items_of(dataset, value_type):
    found = []

    def visit(items):
        for item in items:
            if item.get("ValueType") == value_type:
                found.append(item)
            visit(item.get("ContentSequence", []))

    visit(dataset.get("ContentSequence", []))
    return found


def all_strings(dataset):
    """Every text value of every element, at any depth (file meta included)."""
    values = []

    def visit(ds):
        for elem in ds:
            if elem.VR == "SQ":
                for item in elem.value:
                    visit(item)
            elif isinstance(elem.value, (bytes, bytearray)):
                values.append(bytes(elem.value).decode("latin-1"))
            elif elem.value is not None:
                values.append(str(elem.value))

    visit(dataset)
    if getattr(dataset, "file_meta", None) is not None:
        visit(dataset.file_meta)
    return values


def assert_nothing_identifying(output_bytes, identifiers):
    strings = all_strings(read(output_bytes))
    for value in identifiers:
        for s in strings:
            assert value.lower() not in s.lower(), value
        assert value.encode().lower() not in output_bytes.lower(), value


def sr_validator_errors(paths):
    """The "Error" lines of PixelMed's DicomSRValidator for each file (one JVM:
    its command line compiles its stylesheets for every file)."""
    command = ["java", "-Djdk.xml.xpathExprOpLimit=0", "-Djdk.xml.xpathExprGrpLimit=0",
               "-Djdk.xml.xpathTotalOpLimit=0", "-cp", SR_VALIDATOR_JAR, SR_VALIDATOR_SOURCE] + list(paths)
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    text = result.stdout.decode("utf-8", "replace")
    assert result.returncode == 0, text[-3000:]
    errors = {}
    current = None
    for line in text.splitlines():
        if line.startswith("=== "):
            current = line[4:]
            errors[current] = set()
        elif current is not None and line.startswith("Error"):
            # Values do not matter (a cleaned text is shorter): messages only.
            errors[current].add(re.sub(r"\"[^\"]*\"|<[^>]*>", "", line).strip())
    assert set(errors) == set(paths), text[-3000:]
    return errors


@pytest.fixture(scope="module")
def outputs(orthanc):
    """Inputs and their de-identified versions, under three option sets."""
    inputs = {"crafted": crafted_sr()}
    for name in ("reportsi.dcm", "test-SR.dcm", "waveform_ecg.dcm"):
        with open(os.path.join(PYDICOM_TEST_FILES, name), "rb") as f:
            inputs[name] = f.read()
    result = {}
    for label, options in (("clean", "CleanStructuredContent"),
                           ("shifted", "CleanStructuredContent,RetainLongitudinalModifiedDates"),
                           ("full", "CleanStructuredContent,RetainLongitudinalFullDates")):
        for name, data in inputs.items():
            result[(label, name)] = (data, deidentify(orthanc, data, options))
    return result


def test_nothing_identifying_survives_in_the_crafted_sr(outputs):
    for label in ("clean", "shifted"):
        _, output = outputs[(label, "crafted")]
        identifiers = IDENTIFIERS + [STUDY_UID, SERIES_UID, SOP_UID, IMAGE_UID, IMAGE_SERIES_UID, DEVICE_UID]
        assert_nothing_identifying(output, identifiers)


CODE_KEYWORDS = {"CodeValue", "CodingSchemeDesignator", "CodingSchemeVersion", "CodeMeaning"}


def instance_identifying_values(ds):
    """Names (each component), dates, IDs and instance UIDs of an input, at any depth."""
    values = set()

    def visit(dataset):
        for elem in dataset:
            if elem.VR == "SQ":
                for item in elem.value:
                    visit(item)
            elif not elem.value:
                continue
            elif elem.VR == "PN":
                values.update(p.strip() for p in re.split(r"[\^=]", str(elem.value)) if len(p.strip()) >= 3)
            elif elem.VR in ("DA", "DT") or elem.keyword in (
                    "PatientID", "AccessionNumber", "UID", "SOPInstanceUID", "StudyInstanceUID",
                    "SeriesInstanceUID", "ReferencedSOPInstanceUID"):
                values.add(str(elem.value))

    visit(ds)
    # ("0" is no identity; an input already named "Anonymous" meets the dummy)
    return {v for v in values if len(v) >= 5 and v.lower() not in ("anonymous", "removed")}


def test_no_identifying_value_of_any_input_survives(outputs):
    """Every element at any depth but coded concepts (kept by design: a coding
    scheme may be called "TEST" in a file whose patient is "Test")."""
    for name in ("crafted", "reportsi.dcm", "test-SR.dcm", "waveform_ecg.dcm"):
        source, output = outputs[("clean", name)]
        strings = []

        def visit(dataset):
            for elem in dataset:
                if elem.VR == "SQ":
                    for item in elem.value:
                        visit(item)
                elif elem.keyword not in CODE_KEYWORDS and elem.value is not None:
                    strings.append(str(elem.value).lower())

        visit(read(output))
        values = instance_identifying_values(read(source))
        assert values, name
        for value in values:
            assert not [s for s in strings if value.lower() in s], (name, value)


def test_tree_shape_codes_and_numbers_stay(outputs):
    for key, (source, output) in outputs.items():
        src, out = read(source), read(output)
        assert tree(out) == tree(src), key
        for value_type in ("CODE", "NUM"):
            assert [str(i.to_json_dict()) for i in items_of(out, value_type)] == \
                   [str(i.to_json_dict()) for i in items_of(src, value_type)], (key, value_type)
    src, out = (read(d) for d in outputs[("clean", "crafted")])
    number = items_of(out, "NUM")[0].MeasuredValueSequence[0]
    assert number.NumericValue == "23.5"
    assert number.MeasurementUnitsCodeSequence[0].CodeValue == "mm"
    assert items_of(out, "CODE")[0].ConceptCodeSequence[0].CodeMeaning == "Mass"


def test_text_is_cleaned_and_stays_present(outputs):
    for key, (source, output) in outputs.items():
        src, out = read(source), read(output)
        texts = items_of(out, "TEXT")
        assert len(texts) == len(items_of(src, "TEXT")), key
        for item in texts:
            assert item.TextValue.strip(), key   # Type 1 in a TEXT item


def test_person_names(outputs):
    _, output = outputs[("clean", "crafted")]
    out = read(output)
    names = {item.ConceptNameCodeSequence[0].CodeValue: str(item.PersonName) for item in items_of(out, "PNAME")}
    # The patient, named in the tree, is the patient's pseudonym; the observer a dummy.
    assert names["121029"] == str(out.PatientName)
    assert names["121008"] != str(out.PatientName)
    assert names["121008"].startswith("ANONYMOUS")


def test_dates_follow_the_temporal_options(outputs):
    def values(label):
        out = read(outputs[(label, "crafted")][1])
        return out, (items_of(out, "DATE")[0].Date, items_of(out, "TIME")[0].Time,
                     items_of(out, "DATETIME")[0].DateTime)

    _, (date, time, datetime) = values("clean")
    assert (date, time, datetime) == ("19000101", "000000", "19000101000000")   # valid dummies

    out, (date, time, datetime) = values("shifted")
    assert date == out.StudyDate != "20240311"   # the same offset as the study date
    assert datetime == out.StudyDate + "093015"
    assert time == "093015"                      # times are not shifted (whole days)
    assert out.LongitudinalTemporalInformationModified == "MODIFIED"

    _, (date, time, datetime) = values("full")
    assert (date, time, datetime) == ("20240311", "093015", "20240311093015")


def test_uids_remapped_consistently(outputs):
    _, output = outputs[("clean", "crafted")]
    out = read(output)
    uidrefs = {item.ConceptNameCodeSequence[0].CodeValue: item.UID for item in items_of(out, "UIDREF")}
    assert uidrefs["110180"] == out.StudyInstanceUID != STUDY_UID
    assert uidrefs["121012"] != DEVICE_UID
    evidence = out.CurrentRequestedProcedureEvidenceSequence[0]
    assert evidence.StudyInstanceUID == out.StudyInstanceUID
    image = items_of(out, "IMAGE")[0].ReferencedSOPSequence[0]
    assert image.ReferencedSOPInstanceUID == \
        evidence.ReferencedSeriesSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID != IMAGE_UID
    assert image.ReferencedSOPClassUID == CT_IMAGE


def test_waveform_annotations_keep_codes_and_positions(outputs):
    source, output = outputs[("clean", "waveform_ecg.dcm")]
    src, out = read(source), read(output)
    assert len(out.WaveformAnnotationSequence) == len(src.WaveformAnnotationSequence)
    for a, b in zip(src.WaveformAnnotationSequence, out.WaveformAnnotationSequence):
        for keyword in ("ConceptNameCodeSequence", "ReferencedSamplePositions", "NumericValue",
                        "ReferencedWaveformChannels", "AnnotationGroupNumber", "TemporalRangeType"):
            assert a.get(keyword) == b.get(keyword), keyword
    assert out.PatientName != src.PatientName


def test_clinical_words_kept_when_the_cleaner_keeps_text(outputs):
    """Meaningful with a text cleaner that keeps clinical words (the
    conservative one replaces every text by "REMOVED")."""
    _, output = outputs[("clean", "crafted")]
    texts = [item.TextValue for item in items_of(read(output), "TEXT")]
    if all(t == "REMOVED" for t in texts):
        pytest.skip("the text cleaner keeps no text")
    assert any("left upper lobe" in t.lower() for t in texts), texts


def test_validators_show_no_new_errors(outputs):
    with tempfile.TemporaryDirectory() as directory:
        pairs = []
        for (label, name), (source, output) in outputs.items():
            if label != "clean":
                continue
            paths = []
            for kind, data in (("in", source), ("out", output)):
                path = os.path.join(directory, "%s-%s.dcm" % (kind, re.sub(r"\W", "_", name)))
                with open(path, "wb") as f:
                    f.write(data)
                paths.append(path)
            pairs.append((name, paths[0], paths[1]))

        for name, before, after in pairs:
            assert dciodvfy_errors(after) <= dciodvfy_errors(before), name

        sr_pairs = [p for p in pairs if p[0] != "waveform_ecg.dcm"]
        errors = sr_validator_errors([p for _, before, after in sr_pairs for p in (before, after)])
        for name, before, after in sr_pairs:
            assert errors[after] <= errors[before], (name, errors[after] - errors[before])


def test_preview_shows_each_cleaned_value_by_category(orthanc):
    """The preview of a stored SR lists the values of the tree with their
    action and, for text, a reason (the removed categories, or why the fixed
    value was used)."""
    answer = orthanc.upload(crafted_sr())
    assert answer is not None
    changes = orthanc.post_json("/instances/%s/deidentify/preview" % answer["ID"],
                                {"Options": ["CleanStructuredContent"]})
    texts = [c for c in changes if c["Name"] == "TextValue"]
    assert 2 <= len(texts) <= 3   # a purely clinical text may come out unchanged (not listed)
    for change in texts:
        assert change["Action"] == "C" and change["Option"] == "CleanStructuredContent"
        assert "ContentSequence[" in change["Path"]
        if change["After"] == "REMOVED":
            assert change["Reason"].startswith("C")
        for value in IDENTIFIERS:
            assert value.lower() not in change["After"].lower(), value
    names = [c for c in changes if c["Name"] == "PersonName"]
    assert {c["Before"] for c in names} == {PATIENT_NAME, OBSERVER}
    assert all(c["Option"] == "CleanStructuredContent" for c in names)
    orthanc.delete("/instances/" + answer["ID"])


def test_attributes_around_the_tree_keep_their_profile_actions(outputs):
    """test-SR.dcm: Verifying Observer Sequence (D), Predecessor Documents
    Sequence (its UIDs remapped like the instance's own)."""
    source, output = outputs[("clean", "test-SR.dcm")]
    src, out = read(source), read(output)
    assert len(out.VerifyingObserverSequence) == len(src.VerifyingObserverSequence)
    for observer in out.VerifyingObserverSequence:
        assert str(observer.VerifyingObserverName) == "ANONYMOUS"
        assert observer.VerifyingOrganization == "ANONYMOUS"
        assert len(observer.VerifyingObserverIdentificationCodeSequence) == 0
    predecessor = out.PredecessorDocumentsSequence[0]
    assert src.PredecessorDocumentsSequence[0].StudyInstanceUID == src.StudyInstanceUID
    assert predecessor.StudyInstanceUID == out.StudyInstanceUID != src.StudyInstanceUID
