#!/usr/bin/python3
"""Makes the before/after pictures of the README's "Clean Pixel Data" section
with the preview route of a real Orthanc: a synthetic ultrasound burned with
a name and an ID (IntegrationTests/test_pixels.py), previewed with a profile
that accepts the risk (before) and with CleanPixelData (after).

    DEID_PLUGIN=build/libOrthancDeidentification.so /usr/bin/python3 Resources/MakePixelPreviewPictures.py
"""
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "IntegrationTests"))

import conftest     # noqa: E402
import test_pixels  # noqa: E402

factory = conftest.OrthancFactory(tempfile.mkdtemp(prefix="deid-pictures-"))
try:
    server = factory(test_pixels.CONFIG, name="pictures")
    source = server.upload(test_pixels.make_us(test_pixels.burned_frames(), "RGB"))
    for profile, name in (("risk", "pixels-before.png"), ("clean", "pixels-after.png")):
        r = server.post("/instances/%s/deidentify/preview" % source["ID"], {"Profile": profile, "Pixels": True})
        with open(os.path.join(ROOT, "Resources", "Pictures", name), "wb") as f:
            f.write(r.content)
        print(name, len(r.content), "bytes")
finally:
    factory.stop_all()
