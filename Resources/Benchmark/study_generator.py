"""The benchmark's own synthetic data: one CT study of N single-frame
instances (16-bit pixels) and one large multi-frame Enhanced CT instance.

Every instance carries identifying values where the Basic Profile must act
(PS3.15 Table E.1-1): names, IDs, dates, addresses, free text, device and
institution identity, in the top-level data set, in nested sequences (two
levels) and in private elements (a private block with a private sequence
holding its own private block). Values are fictitious.
"""

import os

import numpy
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
ENHANCED_CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2.1"
PATIENT_NAME = "Benchmark^Jane^Quinn"


def _item(**values):
    item = Dataset()
    for keyword, value in values.items():
        setattr(item, keyword, value)
    return item


def _identifying_header(ds, study_uid, series_uid, frame_uid):
    """Patient, study, series, equipment and request attributes, with nested sequences and private data."""
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName = PATIENT_NAME
    ds.PatientID = "BENCH-0042-7731"
    ds.IssuerOfPatientID = "General Hospital of Benchmarkville"
    ds.PatientBirthDate = "19620314"
    ds.PatientSex = "F"
    ds.PatientAge = "064Y"
    ds.PatientSize = "1.68"
    ds.PatientWeight = "61"
    ds.PatientAddress = "12 Example Street, Benchmarkville"
    ds.PatientTelephoneNumbers = "+1 555 0100"
    ds.EthnicGroup = "Example"
    ds.PatientComments = "Jane Quinn Benchmark, allergic to contrast"
    ds.AdditionalPatientHistory = "Seen by Dr Smith on 2026-03-01 for cough"
    ds.OtherPatientIDsSequence = Sequence([
        _item(PatientID="MRN-99817", IssuerOfPatientID="Benchmarkville Clinic", TypeOfPatientID="TEXT")])
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = frame_uid
    ds.PositionReferenceIndicator = ""
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = "20260301"
    ds.StudyTime = ds.SeriesTime = "101500"
    ds.AcquisitionTime = ds.ContentTime = "101512.250"
    ds.AccessionNumber = "ACC-20260301-17"
    ds.StudyID = "S17"
    ds.StudyDescription = "CT chest for Jane Benchmark"
    ds.SeriesDescription = "Axial 1 mm, Dr Smith protocol"
    ds.ReferringPhysicianName = "Smith^John"
    ds.PerformingPhysicianName = "Jones^Alice"
    ds.OperatorsName = "Tech^Tom"
    ds.InstitutionName = "General Hospital of Benchmarkville"
    ds.InstitutionAddress = "1 Hospital Road, Benchmarkville"
    ds.InstitutionalDepartmentName = "Radiology"
    ds.StationName = "CTROOM2"
    ds.Manufacturer = "ExampleCorp"
    ds.ManufacturerModelName = "Scanner 9000"
    ds.DeviceSerialNumber = "SN-0012345"
    ds.SoftwareVersions = "1.2.3"
    ds.ProcedureCodeSequence = Sequence([
        _item(CodeValue="CTCHEST", CodingSchemeDesignator="99LOCAL", CodeMeaning="CT chest for Jane")])
    ds.RequestAttributesSequence = Sequence([_item(
        RequestedProcedureID="RP-5521",
        ScheduledProcedureStepID="SPS-5521-1",
        RequestedProcedureDescription="Chest CT requested by Dr Smith",
        ReferencedStudySequence=Sequence([_item(
            ReferencedSOPClassUID="1.2.840.10008.3.1.2.3.1",
            ReferencedSOPInstanceUID=study_uid)]))])
    # A private block, with a private sequence whose item has its own private block.
    ds.add_new(0x00090010, "LO", "BENCHMARK PRIVATE 1.0")
    ds.add_new(0x00091001, "LO", "Jane Quinn Benchmark")
    ds.add_new(0x00091002, "DA", "19620314")
    ds.add_new(0x00091003, "LT", "Operator Tom at CTROOM2, patient BENCH-0042-7731")
    inner = _item(PatientID="BENCH-0042-7731")
    inner.add_new(0x00110010, "LO", "BENCHMARK NESTED 1.0")
    inner.add_new(0x00111001, "PN", "Benchmark^Jane")
    ds.add_new(0x00091004, "SQ", Sequence([inner]))
    ds.add_new(0x00190010, "LO", "BENCHMARK RAW")
    ds.add_new(0x00191001, "OB", bytes(range(256)) * 4)


def _ct_image(ds, size):
    ds.Modality = "CT"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.BurnedInAnnotation = "NO"
    ds.KVP = "120"
    ds.SliceThickness = "1.0"
    ds.PatientPosition = "HFS"
    ds.SeriesNumber = 2
    ds.AcquisitionNumber = 1
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [0.7, 0.7]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = size
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    ds.WindowCenter = "40"
    ds.WindowWidth = "400"


def _save(ds, path, sop_class, sop_instance):
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_instance
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_instance
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as(path, write_like_original=False)


def _noise(size, seed):
    """A 16-bit CT-like slice: noise in -1024..3071 (stored with RescaleIntercept -1024)."""
    rng = numpy.random.default_rng(seed)
    return rng.integers(0, 4096, size=(size, size), dtype=numpy.int16)


def _uid_root():
    """A fresh UID root of fixed length (2.25 would need the whole UID to be one number)."""
    digits = generate_uid(prefix="1.2.826.0.1.3680043.8.498.").rsplit(".", 1)[1]
    return "1.2.826.0.1.3680043.8.498.1" + digits[:20]


def make_study(folder, count, size=512, seed=1):
    """count single-frame CT instances of size x size in one study and series; returns the file paths.

    pydicom writes one template; each instance is the template's header with its own
    SOP Instance UID, Instance Number, position and slice location patched in place
    (same lengths), followed by its own pixels: thousands of files in seconds.
    """
    os.makedirs(folder, exist_ok=True)
    root = _uid_root()
    ds = Dataset()
    _identifying_header(ds, root + ".1", root + ".2", root + ".3")
    _ct_image(ds, size)
    placeholders = {"uid": root + ".19999999", "number": "99999999", "position": "-99999.9"}
    ds.InstanceNumber = placeholders["number"]
    ds.ImagePositionPatient = ["-180", "-180", placeholders["position"]]
    ds.SliceLocation = placeholders["position"]
    base = _noise(size, seed)
    ds.PixelData = base.tobytes()
    template = os.path.join(folder, "template.tmp")
    _save(ds, template, CT_IMAGE_STORAGE, placeholders["uid"])
    with open(template, "rb") as f:
        header = f.read()[:-len(ds.PixelData)]
    os.remove(template)
    for value in placeholders.values():
        if header.count(value.encode()) == 0:
            raise RuntimeError("generator: placeholder %s not found in the template" % value)
    paths = []
    for number in range(1, count + 1):
        patched = header.replace(placeholders["uid"].encode(), ("%s.1%07d" % (root, number)).encode())
        patched = patched.replace(placeholders["number"].encode(), ("%8d" % number).encode())
        patched = patched.replace(placeholders["position"].encode(), ("%8.1f" % -number).encode())
        path = os.path.join(folder, "CT%06d.dcm" % number)
        with open(path, "wb") as f:
            f.write(patched)
            f.write(numpy.roll(base, number, axis=1).tobytes())
        paths.append(path)
    return paths


def make_large_instance(path, megabytes, size=512, seed=2):
    """One multi-frame Enhanced CT instance of about `megabytes` MB of pixel data; returns its file size."""
    frame_bytes = size * size * 2
    frames = max(1, -(-int(megabytes * 1024 * 1024) // frame_bytes))
    ds = Dataset()
    _identifying_header(ds, generate_uid(), generate_uid(), generate_uid())
    _ct_image(ds, size)
    for keyword in ("SliceThickness", "ImageOrientationPatient", "PixelSpacing", "RescaleIntercept",
                    "RescaleSlope", "WindowCenter", "WindowWidth", "AcquisitionNumber"):
        delattr(ds, keyword)
    ds.ImageType = ["ORIGINAL", "PRIMARY", "VOLUME", "NONE"]
    ds.InstanceNumber = 1
    ds.NumberOfFrames = frames
    ds.ContentQualification = "PRODUCT"
    ds.SharedFunctionalGroupsSequence = Sequence([_item(
        PixelMeasuresSequence=Sequence([_item(PixelSpacing=[0.7, 0.7], SliceThickness="1.0")]),
        PlaneOrientationSequence=Sequence([_item(ImageOrientationPatient=[1, 0, 0, 0, 1, 0])]),
        PixelValueTransformationSequence=Sequence([_item(RescaleIntercept="-1024", RescaleSlope="1",
                                                         RescaleType="HU")]))])
    ds.PerFrameFunctionalGroupsSequence = Sequence([_item(
        FrameContentSequence=Sequence([_item(FrameAcquisitionDateTime="20260301101512.250000",
                                             InStackPositionNumber=number + 1)]),
        PlanePositionSequence=Sequence([_item(ImagePositionPatient=[-180, -180, -number * 1.0])]))
        for number in range(frames)])
    ds.PixelData = _noise(size, seed).tobytes() * frames
    _save(ds, path, ENHANCED_CT_IMAGE_STORAGE, generate_uid())
    del ds
    return os.path.getsize(path)
