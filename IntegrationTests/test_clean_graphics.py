"""Clean Graphics Option (PS3.15 E.3.3) in a real Orthanc: a presentation
state whose text object holds the patient's name, an image with two overlays
(one with the name drawn in it, one with a plain shape) and a curve. The
identifying text goes, the graphics stay, the text overlay's whole Overlay
Plane module is removed, and dciodvfy finds no new error. Holds with the
conservative text cleaner (text objects removed) and with a real one (text
cleaned)."""

import io
import os

import numpy
import pydicom
import pytest
from PIL import Image, ImageDraw, ImageFont
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from conftest import PYDICOM_TEST_FILES
from deid_checks import dciodvfy_errors

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
NAME_PARTS = [b"DOE", b"Doe", b"JOHN", b"John"]
GSPS = "1.2.840.10008.5.1.4.1.1.11.1"
POLYLINE = [20.0, 40.0, 60.0, 80.0, 100.0, 40.0]


def pack_overlay(bits):
    """1-bit Overlay Data, pixel p at bit p % 8 of byte p // 8 (PS3.5 8.1.2)."""
    flat = numpy.asarray(bits, dtype=numpy.uint8).reshape(-1)
    packed = numpy.packbits(flat, bitorder="little").tobytes()
    return packed + b"\0" * (len(packed) % 2)


def add_overlay(ds, group, bits, label):
    rows, columns = bits.shape
    ds.add_new((group, 0x0010), "US", rows)
    ds.add_new((group, 0x0011), "US", columns)
    ds.add_new((group, 0x0022), "LO", label)
    ds.add_new((group, 0x0040), "CS", "G")
    ds.add_new((group, 0x0050), "SS", [1, 1])
    ds.add_new((group, 0x0100), "US", 1)
    ds.add_new((group, 0x0102), "US", 0)
    ds.add_new((group, 0x3000), "OW", pack_overlay(bits))


def text_bits(rows, columns, text):
    image = Image.new("L", (columns, rows), 0)
    ImageDraw.Draw(image).text((4, rows // 2 - 10), text, fill=255, font=ImageFont.truetype(FONT, 16))
    return numpy.asarray(image) > 127


def shape_bits(rows, columns):
    image = Image.new("L", (columns, rows), 0)
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, columns - 30, rows - 40), outline=255, width=2)
    draw.line([(10, rows - 10), (columns // 2, rows - 30), (columns - 10, rows - 12)], fill=255, width=2)
    return numpy.asarray(image) > 127


def image_with_overlays_and_curve():
    ds = pydicom.dcmread(os.path.join(PYDICOM_TEST_FILES, "CT_small.dcm"))
    ds.PatientName = "DOE^JOHN"
    # Its own patient and UIDs: the shared Orthanc must not hold a changed
    # copy of CT_small under CT_small's identifiers (other modules upload
    # the original and count the instances of its patient and study).
    ds.PatientID = "GR-4712"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    rows, columns = int(ds.Rows), int(ds.Columns)
    text = text_bits(rows, columns, "DOE JOHN")
    shape = shape_bits(rows, columns)
    # The shape in 6000: dciodvfy checks the Overlay Plane module in group 6000
    # only, and would report a lone 6002 group as a missing 6000 one.
    add_overlay(ds, 0x6000, shape, "John Doe outline")
    add_overlay(ds, 0x6002, text, "John Doe overlay")
    ds.add_new((0x5000, 0x0005), "US", 2)                    # Curve Dimensions
    ds.add_new((0x5000, 0x0010), "US", 3)                    # Number of Points
    ds.add_new((0x5000, 0x0020), "CS", "POLY")               # Type of Data
    ds.add_new((0x5000, 0x0022), "LO", "John Doe curve")     # Curve Description
    ds.add_new((0x5000, 0x0103), "US", 0)                    # Data Value Representation
    ds.add_new((0x5000, 0x2500), "LO", "DOE")                # Curve Label
    ds.add_new((0x5000, 0x3000), "OB", bytes([1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0]))
    return ds, pack_overlay(shape)


def presentation_state():
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = GSPS
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = GSPS
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName = "DOE^JOHN"
    ds.PatientID = "GR-4711"
    ds.PatientBirthDate = "19700131"
    ds.PatientSex = "M"
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.StudyDate, ds.StudyTime, ds.StudyID, ds.AccessionNumber = "20200101", "120000", "S1", "A1"
    ds.ReferringPhysicianName = "Welby^Marcus"
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "PR", 1, 1
    ds.Manufacturer = "TEST"
    ds.ContentLabel = "FINDINGS"
    ds.ContentDescription = "Graphics"
    ds.PresentationCreationDate, ds.PresentationCreationTime = "20200101", "120000"
    ds.ContentCreatorName = "Welby^Marcus"
    image_uid, series_uid = generate_uid(), generate_uid()
    referenced = Dataset()
    referenced.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    referenced.ReferencedSOPInstanceUID = image_uid
    series = Dataset()
    series.SeriesInstanceUID = series_uid
    series.ReferencedImageSequence = Sequence([referenced])
    ds.ReferencedSeriesSequence = Sequence([series])
    area = Dataset()
    area.DisplayedAreaTopLeftHandCorner = [1, 1]
    area.DisplayedAreaBottomRightHandCorner = [128, 128]
    area.PresentationSizeMode = "SCALE TO FIT"
    area.PresentationPixelSpacing = [1, 1]
    ds.DisplayedAreaSelectionSequence = Sequence([area])
    layer = Dataset()
    layer.GraphicLayer = "FINDINGS"
    layer.GraphicLayerOrder = 1
    ds.GraphicLayerSequence = Sequence([layer])
    ds.PresentationLUTShape = "IDENTITY"

    text = Dataset()
    text.BoundingBoxAnnotationUnits = "PIXEL"
    text.UnformattedTextValue = "John Doe lesion"
    text.BoundingBoxTopLeftHandCorner = [10.0, 10.0]
    text.BoundingBoxBottomRightHandCorner = [120.0, 30.0]
    text.BoundingBoxTextHorizontalJustification = "LEFT"
    graphic = Dataset()
    graphic.GraphicAnnotationUnits = "PIXEL"
    graphic.GraphicDimensions = 2
    graphic.NumberOfGraphicPoints = 3
    graphic.GraphicData = POLYLINE
    graphic.GraphicType = "POLYLINE"
    graphic.GraphicFilled = "N"
    annotation = Dataset()
    annotation.ReferencedImageSequence = Sequence([referenced])
    annotation.GraphicLayer = "FINDINGS"
    annotation.TextObjectSequence = Sequence([text])
    annotation.GraphicObjectSequence = Sequence([graphic])
    ds.GraphicAnnotationSequence = Sequence([annotation])
    return ds, image_uid


def to_bytes(ds):
    buffer = io.BytesIO()
    ds.save_as(buffer, write_like_original=False)
    return buffer.getvalue()


def deidentify(orthanc, data):
    instance = orthanc.upload(data)
    assert instance is not None
    try:
        return orthanc.post("/instances/%s/deidentify" % instance["ID"], {"Options": ["CleanGraphics"]}).content
    finally:
        orthanc.delete("/instances/" + instance["ID"])


def assert_no_new_dciodvfy_errors(tmp_path, before, after):
    (tmp_path / "in.dcm").write_bytes(before)
    (tmp_path / "out.dcm").write_bytes(after)
    new = dciodvfy_errors(str(tmp_path / "out.dcm")) - dciodvfy_errors(str(tmp_path / "in.dcm"))
    assert not new, new


def test_presentation_state_text_cleaned_polyline_kept(orthanc, tmp_path):
    ds, image_uid = presentation_state()
    data = to_bytes(ds)
    output = deidentify(orthanc, data)
    for part in NAME_PARTS:
        assert part not in output, part
    out = pydicom.dcmread(io.BytesIO(output))
    assert len(out.GraphicAnnotationSequence) == 1
    annotation = out.GraphicAnnotationSequence[0]
    assert annotation.GraphicLayer == "FINDINGS"
    graphic = annotation.GraphicObjectSequence[0]
    assert graphic.GraphicType == "POLYLINE"
    assert [float(v) for v in graphic.GraphicData] == POLYLINE
    reference = annotation.ReferencedImageSequence[0].ReferencedSOPInstanceUID
    assert reference != image_uid    # replaced (U), consistently with the rest of the study
    assert reference == out.ReferencedSeriesSequence[0].ReferencedImageSequence[0].ReferencedSOPInstanceUID
    # The conservative cleaner removes the text object; a real one keeps the clinical word.
    for text in annotation.get("TextObjectSequence", []):
        assert "lesion" in text.UnformattedTextValue.lower()
    assert b"ANONYMOUS" not in output   # cleaned, not the Basic Profile's dummies
    assert_no_new_dciodvfy_errors(tmp_path, data, output)


def test_text_overlay_removed_whole_shape_overlay_and_curve_kept(orthanc, tmp_path):
    ds, shape = image_with_overlays_and_curve()
    data = to_bytes(ds)
    output = deidentify(orthanc, data)
    for part in NAME_PARTS:
        assert part not in output, part
    out = pydicom.dcmread(io.BytesIO(output))
    assert not [e for e in out if e.tag.group == 0x6002], "the text overlay's module must go whole"
    if not any(e.tag.group == 0x6000 for e in out):
        pytest.fail("the shape overlay was removed (is tesseract-ocr-eng installed?)")
    assert out[0x6000, 0x3000].value == shape
    assert out[0x6000, 0x0010].value == ds.Rows and out[0x6000, 0x0040].value == "G"
    assert out[0x5000, 0x3000].value == ds[0x5000, 0x3000].value   # numeric Curve Data kept
    assert out[0x5000, 0x0020].value == "POLY"
    assert_no_new_dciodvfy_errors(tmp_path, data, output)

    # The preview says why the overlay went (never what it read).
    instance = orthanc.upload(data)["ID"]
    preview = orthanc.post_json("/instances/%s/deidentify/preview" % instance, {"Options": ["CleanGraphics"]})
    reasons = {c["Tag"]: c.get("Reason", "") for c in preview}
    assert reasons["(6002,3000)"] == "Clean Graphics: text found in the overlay; Overlay Plane module removed"
    assert "(6000,3000)" not in reasons

    # The Basic Profile removes both overlays and the curve.
    basic = pydicom.dcmread(io.BytesIO(orthanc.post(
        "/instances/%s/deidentify" % orthanc.upload(data)["ID"], {}).content))
    assert not [e for e in basic if e.tag.group in (0x5000, 0x6000, 0x6002)]
