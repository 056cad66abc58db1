"""Clean Recognizable Visual Features (PS3.15 E.3.2) in a real Orthanc: a
synthetic head CT phantom (40 axial slices of an ellipsoid head with skull,
brain, nose and chin) is defaced; an MR head and a VL photograph are refused
with a clear reason; a chest CT passes unchanged."""

import io
import tempfile

import numpy
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

import deid_checks

OPTION = {"Options": ["CleanRecognizableVisualFeatures"]}
NAME = "DOE^JANE"
PATIENT_ID = "FACE-4711"
SIZE, SPACING, SLICES, FIRST_Z, STEP = 128, 2.0, 40, -100.0, 5.0
CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
VL_PHOTO = "1.2.840.10008.5.1.4.1.1.77.1.4"


def inside(x, y, z, c, a):
    return ((x - c[0]) / a[0]) ** 2 + ((y - c[1]) / a[1]) ** 2 + ((z - c[2]) / a[2]) ** 2


def phantom_slice(z, head=True):
    """Hounsfield units of one axial slice (LPS: anterior is -y)."""
    origin = -(SIZE - 1) * SPACING / 2
    y, x = numpy.mgrid[0:SIZE, 0:SIZE] * SPACING + origin
    hu = numpy.full((SIZE, SIZE), -1000.0)
    outer = inside(x, y, z, (0, 0, 0), (75, 95, 105))
    hu[outer <= 1] = 40
    if head:
        inner = inside(x, y, z, (0, 0, 0), (75 * 0.86, 95 * 0.86, 105 * 0.86))
        if z > -20:
            hu[(outer <= 0.93 ** 2) & (inner > 1)] = 1000                # skull under the skin
            hu[inner <= 1] = 30 if z > -15 else 1000                      # brain above the skull base
        hu[inside(x, y, z, (0, -95, -30), (12, 25, 20)) <= 1] = 40        # nose
        hu[inside(x, y, z, (0, -70, -85), (25, 18, 14)) <= 1] = 40        # chin
    return hu


def base_dataset(sop_class, study, series, modality, number):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = sop_class
    ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = NAME, PATIENT_ID, "19700101", "F"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.StudyDate, ds.StudyTime, ds.StudyID, ds.AccessionNumber = "20240102", "101010", "1", "ACC1"
    ds.ReferringPhysicianName = "House^Greg"
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = modality, 1, number
    ds.Manufacturer = "Phantom"
    ds.PatientOrientation = ""
    return ds


def ct_slice(k, study, series, body_part="HEAD", head=True, sop_class=CT, modality="CT"):
    ds = base_dataset(sop_class, study, series, modality, k + 1)
    z = FIRST_Z + k * STEP
    origin = -(SIZE - 1) * SPACING / 2
    ds.BodyPartExamined = body_part
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.FrameOfReferenceUID = generate_uid(entropy_srcs=[study, "frame"])
    ds.PositionReferenceIndicator = ""
    ds.ImagePositionPatient = [origin, origin, z]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.SliceLocation = z
    ds.PixelSpacing = [SPACING, SPACING]
    ds.SliceThickness = STEP
    ds.Rows = ds.Columns = SIZE
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    if modality == "CT":
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
        ds.KVP, ds.AcquisitionNumber = 120, 1
    else:
        ds.ScanningSequence, ds.SequenceVariant, ds.ScanOptions, ds.MRAcquisitionType = "SE", "NONE", "", "2D"
        ds.RepetitionTime, ds.EchoTime, ds.EchoTrainLength, ds.MagneticFieldStrength = 500, 15, 1, 1.5
        ds.ImagedNucleus = "1H"
    ds.PixelData = (phantom_slice(z, head) + 1024).astype(numpy.uint16).tobytes()
    return ds


def vl_photograph(study):
    ds = base_dataset(VL_PHOTO, study, generate_uid(), "XC", 1)
    ds.Rows, ds.Columns = 16, 16
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.PixelData = bytes(range(256)) * 3
    return ds


def to_bytes(ds):
    with tempfile.NamedTemporaryFile(suffix=".dcm") as f:
        ds.save_as(f.name, write_like_original=False)
        return open(f.name, "rb").read()


def hounsfield(ds):
    return ds.pixel_array.astype(numpy.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)


def pixel(ds, x, y):
    origin = -(SIZE - 1) * SPACING / 2
    return hounsfield(ds)[int(round((y - origin) / SPACING)), int(round((x - origin) / SPACING))]


def slice_index(z):
    return int(round((z - FIRST_Z) / STEP))


@pytest.fixture(scope="module")
def server(start_orthanc):
    return start_orthanc({}, name="deface")


@pytest.fixture(scope="module")
def head(server, tmp_path_factory):
    study, series = generate_uid(), generate_uid()
    slices = [ct_slice(k, study, series) for k in range(SLICES)]
    directory = tmp_path_factory.mktemp("head")
    ids = []
    for k, ds in enumerate(slices):
        data = to_bytes(ds)
        (directory / ("%02d.dcm" % k)).write_bytes(data)
        ids.append(server.upload(data)["ID"])
    return {"ids": ids, "study": server.get_json("/instances/%s/study" % ids[0])["ID"], "directory": directory}


def assert_defaced(ds):
    z = float(ds.ImagePositionPatient[2])
    assert ds.RecognizableVisualFeatures == "NO"
    codes = [item.CodeValue for item in ds.DeidentificationMethodCodeSequence]
    assert "113100" in codes and "113102" in codes
    assert "DOE" not in str(ds.PatientName)
    if slice_index(z) == slice_index(-30):
        assert pixel(ds, 0, -114) == -1000 and pixel(ds, 0, -100) == -1000   # the nose is gone
        assert pixel(ds, 0, 0) == 40
    if slice_index(z) == slice_index(-85):
        assert pixel(ds, 0, -84) == -1000                                     # the chin too
    if slice_index(z) == slice_index(10):
        assert pixel(ds, 0, -60) == 30 and pixel(ds, 0, 0) == 30              # the brain is kept
        assert pixel(ds, 0, -84) == 1000                                      # and its skull


def test_head_ct_study_is_defaced(server, head, tmp_path):
    answer = server.post_json("/studies/%s/deidentify" % head["study"], dict(OPTION, Synchronous=True))
    assert answer["InstancesCount"] == SLICES and answer["FailedInstancesCount"] == 0, answer
    instances = server.get_json("/studies/%s/instances" % answer["ID"])
    assert len(instances) == SLICES
    seen = set()
    for instance in instances:
        data = server.get("/instances/%s/file" % instance["ID"]).content
        ds = pydicom.dcmread(io.BytesIO(data))
        assert_defaced(ds)
        seen.add(slice_index(float(ds.ImagePositionPatient[2])))
        if slice_index(float(ds.ImagePositionPatient[2])) == slice_index(-30):
            # dciodvfy: no error that the source does not have too.
            output = tmp_path / "out.dcm"
            output.write_bytes(data)
            before = deid_checks.dciodvfy_errors(str(head["directory"] / ("%02d.dcm" % slice_index(-30))))
            after = deid_checks.dciodvfy_errors(str(output))
            assert after <= before, after - before
    assert seen == set(range(SLICES))


def test_single_instance_reads_its_series_from_orthanc(server, head):
    instance = head["ids"][slice_index(-30)]
    r = server.post("/instances/%s/deidentify" % instance, OPTION)
    assert_defaced(pydicom.dcmread(io.BytesIO(r.content)))
    # The uploaded file of a stored series too.
    data = server.get("/instances/%s/file" % instance).content
    r = server.post("/tools/deidentify", data,
                    headers={"X-Deidentification-Options": "CleanRecognizableVisualFeatures"})
    assert_defaced(pydicom.dcmread(io.BytesIO(r.content)))
    # The preview says what was done.
    changes = server.post_json("/instances/%s/deidentify/preview" % instance, OPTION)
    pixels = [c for c in changes if c["Tag"] == "(7FE0,0010)"]
    assert pixels and pixels[0]["Option"] == "CleanRecognizableVisualFeatures" and "air" in pixels[0]["After"]
    r = server.post("/instances/%s/deidentify/preview" % instance, dict(OPTION, Pixels=True))
    assert r.headers["Content-Type"] == "image/png" and r.content.startswith(b"\x89PNG")
    # Without the option the face stays.
    ds = pydicom.dcmread(io.BytesIO(server.post("/instances/%s/deidentify" % instance, {}).content))
    assert pixel(ds, 0, -114) == 40 and "RecognizableVisualFeatures" not in ds


def test_head_slice_without_its_series_is_refused(server):
    lonely = ct_slice(slice_index(-30), generate_uid(), generate_uid())
    r = server.post("/tools/deidentify", to_bytes(lonely), check=False,
                    headers={"X-Deidentification-Options": "CleanRecognizableVisualFeatures"})
    assert r.status_code == 400
    details = r.json()["Details"]
    assert "Clean Recognizable Visual Features" in details and "not stored" in details, details
    assert "DOE" not in details and PATIENT_ID not in details


def test_mr_head_and_photograph_are_refused_with_a_clear_reason(server):
    study = generate_uid()
    mr = server.upload(to_bytes(ct_slice(20, study, generate_uid(), sop_class=MR, modality="MR")))
    photo = server.upload(to_bytes(vl_photograph(study)))
    chest = server.upload(to_bytes(ct_slice(20, study, generate_uid(), body_part="CHEST", head=False)))
    for instance, words in ((mr, "MR Image Storage"), (photo, "VL Photographic Image Storage")):
        r = server.post("/instances/%s/deidentify" % instance["ID"], OPTION, check=False)
        assert r.status_code == 400, r.text
        details = r.json()["Details"]
        assert instance["ID"] in details and words in details, details
        assert "Clean Recognizable Visual Features" in details
        assert "DOE" not in details and PATIENT_ID not in details
    # In a job, they fail alone; the chest CT passes unchanged.
    answer = server.post_json("/studies/%s/deidentify" % mr["ParentStudy"], dict(OPTION, Synchronous=True))
    assert answer["InstancesCount"] == 3 and answer["FailedInstancesCount"] == 2, answer
    failed = {f["Instance"]: f["Error"] for f in answer["FailedInstances"]}
    assert set(failed) == {mr["ID"], photo["ID"]}
    assert "MR Image Storage" in failed[mr["ID"]] and "VL Photographic" in failed[photo["ID"]]
    r = server.post("/instances/%s/deidentify" % chest["ID"], OPTION)
    ds = pydicom.dcmread(io.BytesIO(r.content))
    source = pydicom.dcmread(io.BytesIO(server.get("/instances/%s/file" % chest["ID"]).content))
    assert numpy.array_equal(ds.pixel_array, source.pixel_array)
    assert "RecognizableVisualFeatures" not in ds
