#!/usr/bin/python3
"""Makes the before/after pictures of the README's "Clean Recognizable Visual
Features and defacing" section with a real Orthanc: the synthetic head CT
phantom of IntegrationTests/test_recognizable_visual_features.py is stored,
its study de-identified with CleanRecognizableVisualFeatures, and the
midline sagittal plane of both series is drawn (anterior to the left, head up).

    DEID_PLUGIN=build/libOrthancDeidentification.so /usr/bin/python3 Resources/MakeDefacingPictures.py
"""
import io
import os
import sys
import tempfile

import numpy
import pydicom
from PIL import Image
from pydicom.uid import generate_uid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "IntegrationTests"))

import conftest                                 # noqa: E402
import test_recognizable_visual_features as rvf  # noqa: E402


def sagittal(server, study):
    """The midline column of every slice, top slice first, in a 0..255 window of -200..300 HU."""
    rows = {}
    for instance in server.get_json("/studies/%s/instances" % study):
        ds = pydicom.dcmread(io.BytesIO(server.get("/instances/%s/file" % instance["ID"]).content))
        rows[float(ds.ImagePositionPatient[2])] = rvf.hounsfield(ds)[:, rvf.SIZE // 2]
    picture = numpy.array([rows[z] for z in sorted(rows, reverse=True)])
    picture = numpy.clip((picture + 200) / 500 * 255, 0, 255).astype(numpy.uint8)
    # Slices are 5 mm apart, pixels 2 mm: stretch vertically to the true aspect.
    return Image.fromarray(picture).resize((rvf.SIZE * 2, int(len(rows) * rvf.STEP / rvf.SPACING) * 2))


factory = conftest.OrthancFactory(tempfile.mkdtemp(prefix="deid-pictures-"))
try:
    server = factory({}, name="pictures")
    study_uid, series_uid = generate_uid(), generate_uid()
    ids = [server.upload(rvf.to_bytes(rvf.ct_slice(k, study_uid, series_uid)))["ID"] for k in range(rvf.SLICES)]
    study = server.get_json("/instances/%s/study" % ids[0])["ID"]
    defaced = server.post_json("/studies/%s/deidentify" % study, dict(rvf.OPTION, Synchronous=True))["ID"]
    for resource, name in ((study, "defacing-before.png"), (defaced, "defacing-after.png")):
        path = os.path.join(ROOT, "Resources", "Pictures", name)
        sagittal(server, resource).save(path)
        print(name, os.path.getsize(path), "bytes")
finally:
    factory.stop_all()
