"""Orthanc Explorer buttons of the plugin, clicked in a real headless browser.

Starts a real Orthanc with the plugin (conftest's start_orthanc), uploads a
sample study (pydicom's CT_small.dcm, three instances) and instances whose
patient name and descriptions hold markup, then runs explorer-test.js:
Debian's chromium driven by playwright-core (no browser download).

Run by Resources/RunTests.sh after `npm ci` in this folder:

    DEID_PLUGIN=$PWD/build/libOrthancDeidentification.so \
      /usr/bin/python3 -m pytest -q -p no:cacheprovider IntegrationTests/browser/explorer_browser.py

(the file name keeps it out of `pytest IntegrationTests`; given explicitly it
is collected). Screenshots go to build/screenshots/ (DEID_SCREENSHOTS).
"""

import glob
import io
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pydicom
import pytest
from pydicom.uid import generate_uid

from conftest import PYDICOM_TEST_FILES, ROOT, free_port

HERE = os.path.dirname(os.path.abspath(__file__))
CHROMIUM = os.environ.get("DEID_CHROMIUM", "/usr/bin/chromium")
NODE = os.environ.get("DEID_NODE", "/usr/bin/node")
SCREENSHOTS = os.environ.get("DEID_SCREENSHOTS", os.path.join(ROOT, "build", "screenshots"))

ORIGINAL_NAME = "Explorer^Original"
ORIGINAL_ID = "EXPLORER-0001"
XSS_SCRIPT_NAME = "<script>window.__xss=1</script>"
XSS_IMG_NAME = "<img src=x onerror=window.__xss=4>"
XSS_IMG_DESCRIPTION = "<img src=x onerror=\"window.__xss=2\">"


def require_browser():
    missing = [p for p in (CHROMIUM, NODE, os.path.join(HERE, "node_modules", "playwright-core"))
               if not os.path.exists(p)]
    if missing:
        pytest.fail("Missing for the browser tests: %s (Resources/Install.sh installs chromium; "
                    "run `npm ci` in IntegrationTests/browser)" % ", ".join(missing))


def make_keys(directory, name):
    key = os.path.join(directory, name + "-key.pem")
    cert = os.path.join(directory, name + "-cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=" + name], check=True, capture_output=True)
    return key, cert


def dicom_bytes(source, **values):
    ds = pydicom.dcmread(os.path.join(PYDICOM_TEST_FILES, source))
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    out = io.BytesIO()
    ds.save_as(out)
    return out.getvalue()


class StoreScp:
    """A DCMTK storescp on a free loopback port: the Send dialog's modality."""

    def __init__(self, aet, base):
        self.directory = tempfile.mkdtemp(prefix=aet + "-", dir=base)
        self.port = free_port()
        self.process = subprocess.Popen([shutil.which("storescp") or "/usr/bin/storescp", "-aet", aet, "+xa",
                                         "-od", self.directory, str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("storescp did not start")

    def datasets(self):
        return [pydicom.dcmread(f) for f in sorted(glob.glob(os.path.join(self.directory, "*")))]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def storescp(tmp_path_factory):
    scp = StoreScp("TRIAL", str(tmp_path_factory.mktemp("explorer-scp")))
    yield scp
    scp.stop()


@pytest.fixture(scope="module")
def server(start_orthanc, tmp_path_factory, storescp):
    require_browser()
    keys = str(tmp_path_factory.mktemp("explorer-keys"))
    custodian_key, custodian_cert = make_keys(keys, "custodian")
    wrong_key, _ = make_keys(keys, "stranger")
    orthanc = start_orthanc({"DicomModalities": {"trial": ["TRIAL", "127.0.0.1", storescp.port],
                                                 "pacs": ["PACS", "127.0.0.1", storescp.port]},
                             "Deidentification": {
        "Recipients": {"custodian": custodian_cert},
        "Profiles": {"reversible": {"Options": [], "Recipients": ["custodian"]}},
        "Projects": {"explorer": {}},
        # Rules per destination (ignored by a plugin without them): CT and MR
        # go to "trial" with the research profile, anything else is refused.
        "Rules": {"List": [{"Name": "trial-images", "Destination": {"Kind": "Modality", "Name": "trial"},
                            "Match": {"Modality": ["CT", "MR"]}, "Profile": "research", "Project": "explorer"}],
                  "Uncovered": "Refuse"},
        "EnableReidentification": True,
    }}, name="explorer")
    orthanc.keys = {"custodian": custodian_key, "stranger": wrong_key}
    return orthanc


def upload(server, data):
    answer = server.upload(data)
    assert answer is not None
    return answer


def new_study_instances(server, study):
    return [i["ID"] for i in server.get_json("/studies/%s/instances" % study)]


def test_orthanc_explorer_in_headless_chromium(server, storescp, tmp_path):
    # A study of three instances with a recognizable patient.
    study_uid, series_uid = generate_uid(), generate_uid()
    instances = [upload(server, dicom_bytes("CT_small.dcm", PatientName=ORIGINAL_NAME, PatientID=ORIGINAL_ID,
                                            StudyInstanceUID=study_uid, SeriesInstanceUID=series_uid))
                 for _ in range(3)]
    study = instances[0]["ParentStudy"]

    # Markup in the patient name and in descriptions (two patients).
    xss_script = upload(server, dicom_bytes("MR_small.dcm", PatientName=XSS_SCRIPT_NAME, PatientID="XSS-0001",
                                            StudyInstanceUID=generate_uid(), SeriesInstanceUID=generate_uid(),
                                            InstitutionName=XSS_IMG_DESCRIPTION,
                                            StudyDescription=XSS_IMG_DESCRIPTION))
    xss_img = upload(server, dicom_bytes("CT_small.dcm", PatientName=XSS_IMG_NAME, PatientID="XSS-0002",
                                         StudyInstanceUID=generate_uid(), SeriesInstanceUID=generate_uid()))

    # A de-identified copy with an Encrypted Attributes Sequence, for Re-identify.
    reversible = server.post_json("/studies/%s/deidentify" % study,
                                  {"Profile": "reversible", "Synchronous": True})

    scenario = {
        "url": server.url,
        "chromium": CHROMIUM,
        "screenshots": SCREENSHOTS,
        "study": study,
        "instance": instances[0]["ID"],
        "originalName": ORIGINAL_NAME,
        "originalId": ORIGINAL_ID,
        "xssScriptInstance": xss_script["ID"],
        "xssScriptName": XSS_SCRIPT_NAME,
        "xssImgInstance": xss_img["ID"],
        "xssImgName": XSS_IMG_NAME,
        "xssImgDescription": XSS_IMG_DESCRIPTION,
        "reversibleStudy": reversible["ID"],
        "custodianKey": server.keys["custodian"],
        "strangerKey": server.keys["stranger"],
    }
    scenario_path = os.path.join(str(tmp_path), "scenario.json")
    with open(scenario_path, "w") as f:
        json.dump(scenario, f)

    run = subprocess.run([NODE, os.path.join(HERE, "explorer-test.js"), scenario_path],
                         cwd=HERE, capture_output=True, text=True, timeout=600)
    print(run.stdout)
    print(run.stderr)
    assert run.returncode == 0, "The browser scenario failed:\n%s\n%s" % (run.stdout[-6000:], run.stderr[-4000:])

    # The server side agrees with what the page showed: the copy made by the
    # dialog carries no original name, and the key was not kept anywhere.
    result = json.loads(run.stdout.strip().splitlines()[-1])
    new_study = server.get_json("/studies/%s" % result["deidentifiedStudy"])
    assert new_study["PatientMainDicomTags"].get("PatientName") != ORIGINAL_NAME
    for instance in new_study_instances(server, result["deidentifiedStudy"]):
        tags = json.dumps(server.get_json("/instances/%s/simplified-tags" % instance))
        assert ORIGINAL_NAME not in tags and ORIGINAL_ID not in tags
    # What the Send dialog sent reached the modality de-identified.
    if result.get("sent"):
        received = storescp.datasets()
        assert len(received) == 3
        for ds in received:
            assert str(ds.PatientName) != ORIGINAL_NAME and ds.PatientID != ORIGINAL_ID
            assert ds.PatientIdentityRemoved == "YES"
    with open(server.keys["custodian"]) as f:
        pem_body = f.read().split("-----")[2].strip().splitlines()[1]
    assert pem_body not in server.read_log()
