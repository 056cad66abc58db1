"""Clean Pixel Data (PS3.15 E.3.1) in a real Orthanc: configured regions on
synthetic ultrasound images burned with a known name and ID in several
encodings, on the pydicom corpus in every encoding it holds, and the
fail-closed rule on burned-in text."""

import io
import json
import os
import shutil
import subprocess
import tempfile

import numpy
import pydicom
import pytest
from PIL import Image, ImageDraw, ImageFont
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

from conftest import PYDICOM_TEST_FILES

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
NAME = "DOE^JANE"
PATIENT_ID = "4711-0815"
BANNER = [0, 0, 256, 28]        # x, y, width, height (pixels) of the US rule
ROWS, COLUMNS, FRAMES = 96, 256, 3
SC = "1.2.840.10008.5.1.4.1.1.7"
US_MULTIFRAME = "1.2.840.10008.5.1.4.1.1.3.1"

CONFIG = {"Deidentification": {
    "Profiles": {
        "clean": {"Options": ["CleanPixelData"]},
        "risk": {"Options": [], "AcceptBurnedInAnnotationRisk": True},
    },
    "PixelRegions": [
        {"Name": "US banner", "Match": {"Modality": "US", "Rows": "96"}, "Regions": [BANNER]},
        {"Name": "SC top quarter", "Match": {"SOPClassUID": [SC, "1.2.840.10008.5.1.4.1.1.7.*"]},
         "Regions": [[0, 0, 1, 0.25]], "Units": "Fraction"},
        {"Name": "MR corner", "Match": {"Modality": "MR"}, "Regions": [[0, 0, 16, 8]]},
        {"Name": "pydicom US", "Match": {"Modality": "US", "Rows": "60"}, "Regions": [[10, 10, 30, 20]]},
    ],
}}

# Transfer syntaxes: name -> UID.
TS = {
    "explicit": "1.2.840.10008.1.2.1", "implicit": "1.2.840.10008.1.2", "bigendian": "1.2.840.10008.1.2.2",
    "deflated": "1.2.840.10008.1.2.1.99", "rle": "1.2.840.10008.1.2.5",
    "jpeg-baseline": "1.2.840.10008.1.2.4.50", "jpeg-extended": "1.2.840.10008.1.2.4.51",
    "jpeg-lossless": "1.2.840.10008.1.2.4.57", "jpeg-lossless-sv1": "1.2.840.10008.1.2.4.70",
    "jpeg-ls": "1.2.840.10008.1.2.4.80", "j2k-lossless": "1.2.840.10008.1.2.4.90", "j2k": "1.2.840.10008.1.2.4.91",
}
DECODERS = {TS["rle"]: "dcmdrle", TS["jpeg-baseline"]: "dcmdjpeg", TS["jpeg-extended"]: "dcmdjpeg",
            TS["jpeg-lossless"]: "dcmdjpeg", TS["jpeg-lossless-sv1"]: "dcmdjpeg", TS["jpeg-ls"]: "dcmdjpls"}


@pytest.fixture(scope="module")
def server(start_orthanc):
    return start_orthanc(CONFIG, name="pixels")


def decoded(data, workdir):
    """The pixel array, decoded by DCMTK's command-line tools (the same library
    as the plugin, so a lossy source decodes to the same values) and pydicom."""
    path = os.path.join(workdir, "in.dcm")
    with open(path, "wb") as f:
        f.write(data)
    ds = pydicom.dcmread(path)
    tool = DECODERS.get(str(ds.file_meta.TransferSyntaxUID))
    if tool:
        out = os.path.join(workdir, "out.dcm")
        subprocess.run([tool, path, out], check=True, capture_output=True)
        ds = pydicom.dcmread(out)
    return ds, ds.pixel_array


def black_of(ds):
    photometric = ds.PhotometricInterpretation
    bits = ds.BitsStored
    signed = ds.PixelRepresentation == 1
    low = -(1 << (bits - 1)) if signed else 0
    high = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
    if photometric == "MONOCHROME1":
        return [high]
    if photometric.startswith("YBR_FULL"):
        return [0, 1 << (bits - 1), 1 << (bits - 1)]
    return [low] * ds.SamplesPerPixel


def region_mask(shape, regions):
    """True inside the blacked-out rectangles (x, y, w, h in pixels)."""
    mask = numpy.zeros(shape, dtype=bool)
    for x, y, w, h in regions:
        mask[y:y + h, x:x + w] = True
    return mask


def assert_cleaned(before_ds, before, after_ds, after, regions):
    """Inside the regions: black on every frame; outside: identical."""
    frames = int(getattr(before_ds, "NumberOfFrames", 1) or 1)
    if frames == 1:
        before, after = before[numpy.newaxis], after[numpy.newaxis]
    assert before.shape == after.shape
    mask = region_mask((before.shape[1], before.shape[2]), regions)
    black = numpy.array(black_of(after_ds))
    inside = after[:, mask]
    assert (inside == (black if inside.ndim == 3 else black[0])).all()
    assert numpy.array_equal(before[:, ~mask], after[:, ~mask])   # byte-identical outside
    assert not numpy.array_equal(before[:, mask], after[:, mask])  # something was there


def ocr_words(array):
    """Words found by Tesseract on the first frame (empty if Tesseract is not installed)."""
    if shutil.which("tesseract") is None:
        return None
    frame = array[0] if array.ndim == 4 or (array.ndim == 3 and array.shape[-1] != 3) else array
    if frame.ndim == 3:
        frame = frame.mean(axis=-1)
    frame = frame.astype(numpy.float64)
    image = Image.fromarray(numpy.uint8(255 * (frame - frame.min()) / max(1, frame.max() - frame.min())))
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "frame.png")
        image.resize((image.width * 3, image.height * 3)).save(path)
        text = subprocess.run(["tesseract", path, "-"], capture_output=True, text=True).stdout
    return text


# --- Synthetic ultrasound burned with a name and an ID ----------------------

def burned_frames():
    """FRAMES frames of a gradient with NAME and PATIENT_ID burned into the top banner."""
    font = ImageFont.truetype(FONT, 18)
    frames = []
    for f in range(FRAMES):
        # A dark gradient, as behind an ultrasound banner (values 10..66).
        background = (numpy.add.outer(numpy.arange(ROWS) // 4, numpy.arange(COLUMNS) // 8) + 10 + f).astype(numpy.uint8)
        image = Image.fromarray(background)
        draw = ImageDraw.Draw(image)
        text = "%s  ID %s" % (NAME, PATIENT_ID)
        box = draw.textbbox((4, 3), text, font=font)
        assert box[3] <= BANNER[3] and box[2] <= BANNER[2], box   # the text lies in the banner
        draw.text((4, 3), text, fill=255, font=font)
        frames.append(numpy.array(image))
    return numpy.stack(frames)


def make_us(frames, photometric="MONOCHROME2", bits=8, planar=0, syntax="explicit"):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = US_MULTIFRAME
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = TS[syntax]
    ds.SOPClassUID = US_MULTIFRAME
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientName = NAME
    ds.PatientID = PATIENT_ID
    ds.Modality = "US"
    ds.Manufacturer = "Synthetic"
    ds.Rows, ds.Columns, ds.NumberOfFrames = ROWS, COLUMNS, FRAMES
    ds.BitsAllocated = bits
    ds.BitsStored = 12 if bits == 16 else 8
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 0
    ds.PhotometricInterpretation = photometric
    if photometric == "RGB":
        ds.SamplesPerPixel = 3
        ds.PlanarConfiguration = planar
        rgb = numpy.stack([frames, frames // 2, 255 - frames], axis=-1).astype(numpy.uint8)
        if planar:
            rgb = rgb.transpose(0, 3, 1, 2)
        ds.PixelData = rgb.tobytes()
    else:
        ds.SamplesPerPixel = 1
        values = frames.astype(numpy.uint16) * 16 if bits == 16 else frames
        ds.PixelData = values.astype("<u2" if bits == 16 else numpy.uint8).tobytes()
    buffer = io.BytesIO()
    ds.is_little_endian = True
    ds.is_implicit_VR = syntax == "implicit"
    pydicom.dcmwrite(buffer, ds, write_like_original=False)
    return buffer.getvalue()


def compress(data, tool, *args):
    with tempfile.TemporaryDirectory() as d:
        source, target = os.path.join(d, "a.dcm"), os.path.join(d, "b.dcm")
        with open(source, "wb") as f:
            f.write(data)
        subprocess.run([tool, *args, source, target], check=True, capture_output=True)
        with open(target, "rb") as f:
            return f.read()


# name -> (make the file, transfer syntax expected after cleaning)
def synthetic_cases():
    frames = burned_frames()
    mono8 = make_us(frames)
    rgb = make_us(frames, "RGB")
    return {
        "MONOCHROME2 8-bit explicit": (mono8, TS["explicit"]),
        "MONOCHROME2 16-bit implicit": (make_us(frames, bits=16, syntax="implicit"), TS["implicit"]),
        "RGB planar 0": (rgb, TS["explicit"]),
        "RGB planar 1": (make_us(frames, "RGB", planar=1), TS["explicit"]),
        "MONOCHROME2 8-bit RLE": (compress(mono8, "dcmcrle"), TS["rle"]),
        "RGB RLE": (compress(rgb, "dcmcrle"), TS["rle"]),
        "MONOCHROME2 16-bit JPEG lossless SV1": (compress(make_us(frames, bits=16), "dcmcjpeg", "+e1"),
                                                 TS["jpeg-lossless-sv1"]),
        "RGB JPEG lossless": (compress(rgb, "dcmcjpeg", "+el"), TS["jpeg-lossless"]),
        "RGB JPEG-LS lossless": (compress(rgb, "dcmcjpls"), TS["jpeg-ls"]),
        "MONOCHROME2 8-bit JPEG baseline": (compress(mono8, "dcmcjpeg", "+eb"), TS["explicit"]),
        "RGB JPEG baseline (YBR_FULL_422)": (compress(rgb, "dcmcjpeg", "+eb"), TS["explicit"]),
    }


def test_synthetic_ultrasound_in_every_encoding(server, tmp_path):
    for name, (data, expected_syntax) in synthetic_cases().items():
        source = server.upload(data)
        assert source is not None, name
        r = server.post("/instances/%s/deidentify" % source["ID"], {"Profile": "clean"}, check=False)
        server.delete("/instances/" + source["ID"])   # the next case may share its UIDs
        assert r.status_code == 200, (name, r.text)
        out = pydicom.dcmread(io.BytesIO(r.content))
        assert str(out.file_meta.TransferSyntaxUID) == expected_syntax, name
        assert out.BurnedInAnnotation == "NO"
        assert "CleanPixelData" in str(out.DeidentificationMethod)
        lossy = pydicom.dcmread(io.BytesIO(data)).file_meta.TransferSyntaxUID == TS["jpeg-baseline"]
        assert ("Lossy pixels rewritten as Explicit VR Little Endian" in str(out.DeidentificationMethod)) == lossy
        if lossy:
            assert out.LossyImageCompression == "01"
        before_ds, before = decoded(data, str(tmp_path))
        after_ds, after = decoded(r.content, str(tmp_path))
        assert int(after_ds.NumberOfFrames) == FRAMES
        assert_cleaned(before_ds, before, after_ds, after, [BANNER])
        # The burned text itself: none of its pixels is left (it lay in the banner).
        assert not (after[:, :BANNER[3], :] > 0).any(), name
        words = ocr_words(after)
        if words is not None:
            assert "DOE" not in words.upper() and "4711" not in words, (name, words)


def test_profiles_route_shows_the_risk_switch(server):
    profiles = server.get_json("/deidentification/profiles")
    assert profiles["risk"]["AcceptBurnedInAnnotationRisk"] is True
    assert profiles["clean"]["AcceptBurnedInAnnotationRisk"] is False
    assert profiles["basic"]["AcceptBurnedInAnnotationRisk"] is False


def test_default_and_risk_profiles_on_burned_in_ultrasound(server):
    source = server.upload(make_us(burned_frames()))
    r = server.post("/instances/%s/deidentify" % source["ID"], {}, check=False)
    assert r.status_code == 400
    details = r.json()["Details"]
    assert "Modality (0008,0060) is US" in details and "CleanPixelData" in details
    assert "AcceptBurnedInAnnotationRisk" in details and source["ID"] in details
    assert NAME not in details and PATIENT_ID not in details
    # The documented switch: accepted, the pixels are NOT cleaned nor marked as such.
    r = server.post("/instances/%s/deidentify" % source["ID"], {"Profile": "risk"})
    out = pydicom.dcmread(io.BytesIO(r.content))
    assert "BurnedInAnnotation" not in out or out.BurnedInAnnotation != "NO"
    # A request adding CleanPixelData to the default profile cleans.
    r = server.post("/instances/%s/deidentify" % source["ID"], {"Options": ["CleanPixelData"]})
    assert pydicom.dcmread(io.BytesIO(r.content)).BurnedInAnnotation == "NO"


def test_job_fails_the_refused_instance_alone(server):
    frames = burned_frames()
    us = pydicom.dcmread(io.BytesIO(make_us(frames)))
    ct = pydicom.dcmread(os.path.join(PYDICOM_TEST_FILES, "CT_small.dcm"))
    ct.StudyInstanceUID = us.StudyInstanceUID
    ct.PatientID, ct.PatientName = us.PatientID, us.PatientName
    buffer = io.BytesIO()
    ct.save_as(buffer)
    us_id = server.upload(_with_study(frames, us.StudyInstanceUID))["ID"]
    ct_answer = server.upload(buffer.getvalue())
    job = server.post_json("/studies/%s/deidentify" % ct_answer["ParentStudy"], {})
    content = server.wait_for_job(job["ID"])["Content"]
    assert content["InstancesCount"] == 2
    assert content["FailedInstancesCount"] == 1 and content["DeidentifiedInstancesCount"] == 1
    failure = content["FailedInstances"][0]
    assert failure["Instance"] == us_id and "burned-in" in failure["Error"]


def _with_study(frames, study_uid):
    ds = pydicom.dcmread(io.BytesIO(make_us(frames)))
    ds.StudyInstanceUID = study_uid
    buffer = io.BytesIO()
    ds.save_as(buffer)
    return buffer.getvalue()


# --- The pydicom corpus: every encoding it holds ----------------------------

# file -> expected: a transfer syntax name (cleaned and written in it) or
# "error:<text>" (the instance fails with that text, never passes uncleaned).
CORPUS = {
    "SC_rgb_jpeg_dcmd.dcm": "implicit",
    "SC_rgb_small_odd.dcm": "explicit",
    "SC_ybr_full_422_uncompressed.dcm": "explicit",
    "ExplVR_BigEnd.dcm": "bigendian",
    "image_dfl.dcm": "deflated",
    "SC_rgb_rle.dcm": "rle",
    "SC_rgb_rle_2frame.dcm": "rle",
    "SC_rgb_rle_16bit.dcm": "rle",
    "SC_rgb_rle_16bit_2frame.dcm": "rle",
    "MR_small_RLE.dcm": "rle",
    "SC_rgb_jpeg_gdcm.dcm": "jpeg-lossless-sv1",
    "MR_small_jpeg_ls_lossless.dcm": "jpeg-ls",
    "MR_small_bigendian.dcm": "bigendian",
    "SC_rgb_jpeg_lossy_gdcm.dcm": "explicit",
    "SC_rgb_jpeg_dcmtk.dcm": "explicit",
    "SC_rgb_dcmtk_+eb+cy+np.dcm": "explicit",
    "SC_rgb_dcmtk_+eb+cy+s2.dcm": "explicit",
    "SC_rgb_small_odd_jpeg.dcm": "explicit",
    "JPEG-lossy.dcm": "explicit",
    "JPGExtended.dcm": "explicit",
    "SC_rgb_gdcm_KY.dcm": "error:cannot be decoded",
    "GDCMJ2K_TextGBR.dcm": "error:cannot be decoded",
    "MR_small_jp2klossless.dcm": "error:cannot be decoded",
    "SC_rgb_rle_32bit.dcm": "error:Bits Allocated 32",
}


def regions_for(ds):
    if str(ds.SOPClassUID).startswith(SC):
        return [[0, 0, ds.Columns, -(-ds.Rows // 4)]]
    if ds.Modality == "MR":
        return [[0, 0, 16, 8]]
    return [[10, 10, 30, 20]]


def test_pydicom_corpus_encodings(server, tmp_path):
    results = {}
    for name, expected in sorted(CORPUS.items()):
        path = os.path.join(PYDICOM_TEST_FILES, name)
        with open(path, "rb") as f:
            data = f.read()
        source = server.upload(data)
        assert source is not None, name
        r = server.post("/instances/%s/deidentify" % source["ID"], {"Profile": "clean"}, check=False)
        server.delete("/instances/" + source["ID"])   # files of the corpus may share UIDs
        if expected.startswith("error:"):
            assert r.status_code == 400, name
            assert expected[len("error:"):] in r.json()["Details"], (name, r.json()["Details"])
            results[name] = "refused"
            continue
        assert r.status_code == 200, (name, r.text)
        out = pydicom.dcmread(io.BytesIO(r.content))
        assert str(out.file_meta.TransferSyntaxUID) == TS[expected], name
        assert out.BurnedInAnnotation == "NO", name
        before_ds, before = decoded(data, str(tmp_path))
        after_ds, after = decoded(r.content, str(tmp_path))
        assert_cleaned(before_ds, before, after_ds, after, regions_for(before_ds))
        results[name] = expected
    assert len(results) == len(CORPUS)


def test_bad_pixel_regions_refuse_to_start(start_orthanc):
    for regions, expected in (([{"Regions": [[0, 0, 1]]}], "PixelRegions[0]"),
                              ([{"Match": {"NoSuchAttribute": "x"}, "Regions": [[0, 0, 1, 1]]}], "NoSuchAttribute"),
                              ({"Regions": []}, "PixelRegions")):
        server = start_orthanc({"Deidentification": {"PixelRegions": regions}}, name="badregions",
                               expect_failure=True)
        assert server.returncode != 0
        assert expected in server.read_log()
    server = start_orthanc({"Deidentification": {"Profiles": {"x": {"AcceptBurnedInAnnotationRisk": "yes"}}}},
                           name="badrisk", expect_failure=True)
    assert "AcceptBurnedInAnnotationRisk" in server.read_log()


# --- Preview -----------------------------------------------------------------

def preview_png(server, instance_id, profile):
    r = server.post("/instances/%s/deidentify/preview" % instance_id, {"Profile": profile, "Pixels": True})
    assert r.headers["Content-Type"].startswith("image/png")
    assert r.content[:8] == b"\x89PNG\r\n\x1a\n"
    return Image.open(io.BytesIO(r.content)).convert("RGB")


def test_preview_shows_the_cleaned_frame_with_regions_outlined(server):
    source = server.upload(make_us(burned_frames(), "RGB"))
    after = numpy.array(preview_png(server, source["ID"], "clean"))
    assert after.shape == (ROWS, COLUMNS, 3)
    x, y, w, h = BANNER
    assert (after[y:y + h, x:x + w] == 0).all()                          # black banner
    assert (after[y + h, x:x + w] == [255, 0, 0]).all()                  # red outline below it
    before = numpy.array(preview_png(server, source["ID"], "risk"))      # the risk profile cleans nothing
    assert (before[y:y + h, x:x + w] > 0).any()
    assert not ((before == [255, 0, 0]).all(axis=-1)).any()
    # Without "Pixels": the list of changes, as before.
    r = server.post("/instances/%s/deidentify/preview" % source["ID"], {"Profile": "clean"})
    pixel_data = [c for c in r.json() if c["Name"] == "PixelData"]
    assert len(pixel_data) == 1 and pixel_data[0]["Action"] == "C" and pixel_data[0]["Option"] == "CleanPixelData"
    assert pixel_data[0]["After"].startswith("1 region(s) blacked out")
    r = server.post("/instances/%s/deidentify/preview" % source["ID"], {"Profile": "clean", "Pixels": "yes"},
                    check=False)
    assert r.status_code == 400
    server.delete("/instances/" + source["ID"])


# --- OCR (Tesseract) -----------------------------------------------------------

def burned_with_other_text():
    """The burned frames, plus a word that identifies nobody at the bottom left."""
    frames = burned_frames()
    font = ImageFont.truetype(FONT, 18)
    result = []
    for frame in frames:
        image = Image.fromarray(frame)
        ImageDraw.Draw(image).text((4, ROWS - 26), "GAIN", fill=255, font=font)
        result.append(numpy.array(image))
    return numpy.stack(result)


@pytest.mark.parametrize("words", ["All", "IdentifyingValues"])
def test_ocr_blacks_out_the_burned_words(start_orthanc, tmp_path, words):
    config = {"Deidentification": {
        "Profiles": {"clean": {"Options": ["CleanPixelData"]}},
        "PixelOcr": {"Enable": True, "Words": words, "Match": {"Modality": "US"}},
    }}
    server = start_orthanc(config, name="ocr")
    data = make_us(burned_with_other_text())
    source = server.upload(data)
    r = server.post("/instances/%s/deidentify" % source["ID"], {"Profile": "clean"})
    out = pydicom.dcmread(io.BytesIO(r.content))
    assert out.BurnedInAnnotation == "NO"
    before = pydicom.dcmread(io.BytesIO(data)).pixel_array
    after = out.pixel_array
    top, bottom = slice(0, BANNER[3]), slice(ROWS - 28, ROWS)
    # The name and the ID are gone on every frame (the text was drawn in 255,
    # the background < 70); with "IdentifyingValues" the label "ID" may stay.
    bright = after[:, top] >= 128
    if words == "IdentifyingValues":
        font = ImageFont.truetype(FONT, 18)
        label = int(4 + font.getlength(NAME + "  ")), int(4 + font.getlength(NAME + "  ID") + 1)
        bright[:, :, label[0]:label[1]] = False
    assert (before[:, top] == 255).any() and not bright.any()
    # The other word: gone with "All", kept with "IdentifyingValues".
    assert ((after[:, bottom] == 255).any()) == (words == "IdentifyingValues")
    # The rest of the image is untouched.
    middle = slice(BANNER[3] + 4, ROWS - 30)
    assert numpy.array_equal(before[:, middle], after[:, middle])
    words_found = ocr_words(after)
    assert "DOE" not in words_found.upper() and "4711" not in words_found
    server.stop()


def test_bad_ocr_configuration_refuses_to_start(start_orthanc):
    for ocr, expected in (({"Enable": True, "Language": "xx"}, "language"),
                          ({"Words": "Some"}, "Words"), ({"Colour": 1}, "Colour")):
        server = start_orthanc({"Deidentification": {"PixelOcr": ocr}}, name="badocr", expect_failure=True)
        assert server.returncode != 0 and expected in server.read_log()


def test_audit_records_the_cleaned_regions_as_coordinates(server):
    source = server.upload(make_us(burned_frames()))
    server.post("/instances/%s/deidentify" % source["ID"], {"Profile": "clean"})
    job = server.post_json("/series/%s/deidentify" % source["ParentSeries"], {"Profile": "clean"})
    assert server.wait_for_job(job["ID"])["State"] == "Success"
    r = server.get("/deidentification/audit?limit=1000")
    records = [x for x in r.json()["Records"] if x["Source"] in ([source["ID"]], [source["ParentSeries"]])]
    assert len(records) == 2
    for record in records:
        details = record["Details"]
        details = json.loads(details) if isinstance(details, str) else details
        assert details["PixelRegions"] == {source["ID"]: [BANNER]}
    assert NAME not in r.text and PATIENT_ID not in r.text and "JANE" not in r.text
