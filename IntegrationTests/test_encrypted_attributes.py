"""PS3.15 E.1.1 Encrypted Attributes Sequence and E.1.2 re-identification
through a real Orthanc: de-identify for recipients, re-identify with the
private key (byte-identical original values), interoperability with GDCM's
gdcmanon in both directions, and clear 4xx errors."""

import base64
import copy
import io
import os
import shutil
import subprocess
import tempfile

import pydicom
import pytest
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element

from conftest import PYDICOM_TEST_FILES

CT = os.path.join(PYDICOM_TEST_FILES, "CT_small.dcm")
MR = os.path.join(PYDICOM_TEST_FILES, "MR_small.dcm")
RTPLAN = os.path.join(PYDICOM_TEST_FILES, "rtplan.dcm")   # implicit VR, sequences

MARKERS = {0x00120062, 0x00120063, 0x00120064, 0x00280303, 0x04000500,
           0xFFFCFFFC}   # Data Set Trailing Padding (PS3.5 7.7): no information, writers drop it
EXPLICIT_LE = "1.2.840.10008.1.2.1"


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def make_keys(directory, name):
    key = os.path.join(directory, name + "-key.pem")
    cert = os.path.join(directory, name + "-cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-subj", "/CN=" + name, "-days", "2"], check=True, capture_output=True)
    return key, cert


@pytest.fixture(scope="module")
def keys():
    directory = tempfile.mkdtemp(prefix="deid-keys-")
    result = {name: make_keys(directory, name) for name in ("custodian", "auditor", "stranger")}
    result["dir"] = directory
    yield result
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def server(start_orthanc, keys):
    return start_orthanc({
        "Deidentification": {
            "EnableReidentification": True,
            "Recipients": {"custodian": keys["custodian"][1], "auditor": keys["auditor"][1]},
            "Profiles": {
                "reversible": {"Options": [], "Recipients": ["custodian"], "Cipher": "AES128"},
            },
        },
    }, name="encrypted")


def private_key(keys, name="custodian"):
    return read_bytes(keys[name][0]).decode()


def defined_lengths(elem):
    """The same element with defined sequence and item lengths: whether a
    sequence uses undefined lengths is an encoding choice, not a value
    (gdcmanon -d keeps the undefined lengths of the encrypted data set)."""
    elem = copy.deepcopy(elem)
    if elem.VR == "SQ":
        elem.is_undefined_length = False
        for item in elem.value:
            item.is_undefined_length_sequence_item = False
            for index, sub in enumerate(list(item)):
                item[sub.tag] = defined_lengths(sub)
    return elem


def element_bytes(ds, elem):
    """The encoding of one element in the data set's own transfer syntax."""
    elem = defined_lengths(elem)
    fp = DicomBytesIO()
    fp.is_little_endian = ds.is_little_endian
    fp.is_implicit_VR = ds.is_implicit_VR
    write_data_element(fp, elem)
    return fp.getvalue()


def assert_restored(original_bytes, restored_bytes, gdcm=False):
    """Every top-level attribute of the original is back, byte for byte."""
    original = pydicom.dcmread(io.BytesIO(original_bytes))
    restored = pydicom.dcmread(io.BytesIO(restored_bytes))
    assert "EncryptedAttributesSequence" not in restored
    assert "DeidentificationMethod" not in restored
    if not gdcm:
        assert restored.PatientIdentityRemoved == "NO"   # E.1.2 step 3
        assert "DeidentificationMethodCodeSequence" not in restored

    compared = 0
    for elem in original:
        tag = int(elem.tag)
        if tag in MARKERS or elem.tag.element == 0:
            continue
        assert elem.tag in restored, "%s missing after re-identification" % elem.tag
        assert restored.is_implicit_VR == original.is_implicit_VR
        assert element_bytes(original, elem) == element_bytes(restored, restored[elem.tag]), \
            "%s not restored byte for byte" % elem.tag
        compared += 1
    for elem in restored:
        if int(elem.tag) not in MARKERS and elem.tag.element != 0:
            assert elem.tag in original, "unexpected %s after re-identification" % elem.tag
    assert restored.file_meta.MediaStorageSOPInstanceUID == original.SOPInstanceUID
    assert compared > 10


def deidentify_file(server, path, body):
    """De-identifies one file through POST /instances/{id}/deidentify; deletes the source."""
    instance = server.upload(path)
    assert instance is not None
    data = server.post("/instances/%s/deidentify" % instance["ID"], body).content
    server.delete("/instances/%s" % instance["ID"])
    return data


def test_deidentify_with_recipient_adds_encrypted_attributes(server):
    original = pydicom.dcmread(CT)
    data = deidentify_file(server, CT, {"Recipients": ["custodian"]})
    ds = pydicom.dcmread(io.BytesIO(data))

    assert ds.PatientIdentityRemoved == "YES"
    assert ds.SOPInstanceUID != original.SOPInstanceUID
    assert ds.PatientName != original.PatientName
    assert len(ds.EncryptedAttributesSequence) == 1
    item = ds.EncryptedAttributesSequence[0]
    assert item.EncryptedContentTransferSyntaxUID == EXPLICIT_LE
    content = item.EncryptedContent
    assert content[:1] == b"\x30"                                      # DER
    assert b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x03" in content     # envelopedData
    assert b"\x06\x09\x60\x86\x48\x01\x65\x03\x04\x01\x2a" in content     # AES-256-CBC (default)
    assert str(original.PatientName).encode() not in data


def test_recipients_route(server):
    recipients = server.get_json("/deidentification/recipients")
    assert recipients["Configured"] == ["auditor", "custodian"]
    assert recipients["Ciphers"] == ["AES256", "AES128", "TripleDES"]
    assert "BEGIN" not in str(recipients)


def test_without_recipients_there_is_no_sequence(server):
    data = deidentify_file(server, CT, {})
    assert "EncryptedAttributesSequence" not in pydicom.dcmread(io.BytesIO(data))


def test_profile_recipients_and_cipher(server):
    data = deidentify_file(server, CT, {"Profile": "reversible"})
    content = pydicom.dcmread(io.BytesIO(data)).EncryptedAttributesSequence[0].EncryptedContent
    assert b"\x06\x09\x60\x86\x48\x01\x65\x03\x04\x01\x02" in content     # AES-128-CBC


def test_unknown_recipient_is_a_4xx(server):
    instance = server.upload(CT)
    r = server.post("/instances/%s/deidentify" % instance["ID"], {"Recipients": ["nobody"]}, check=False)
    assert 400 <= r.status_code < 500
    assert "nobody" in r.text and "recipient" in r.text.lower()
    r = server.post("/instances/%s/deidentify" % instance["ID"], {"Recipients": ["custodian"], "Cipher": "RC4"},
                    check=False)
    assert 400 <= r.status_code < 500
    # A job is refused at once, before anything is submitted.
    jobs_before = server.get_json("/jobs")
    r = server.post("/studies/%s/deidentify" % instance["ParentStudy"], {"Recipients": ["nobody"]}, check=False)
    assert r.status_code == 400 and "nobody" in r.text
    assert server.get_json("/jobs") == jobs_before
    server.delete("/instances/%s" % instance["ID"])


@pytest.mark.parametrize("path,cipher", [(CT, "AES256"), (MR, "TripleDES"), (RTPLAN, "AES128")])
def test_reidentify_instance_restores_original_bytes(server, keys, path, cipher):
    data = deidentify_file(server, path, {"Recipients": ["custodian"], "Cipher": cipher})
    stored = server.upload(data)
    restored = server.post("/instances/%s/reidentify" % stored["ID"], {"PrivateKey": private_key(keys)})
    assert restored.headers["Content-Type"].startswith("application/dicom")
    assert_restored(read_bytes(path), restored.content)
    server.delete("/instances/%s" % stored["ID"])


def test_two_recipients_each_reidentify(server, keys):
    data = deidentify_file(server, CT, {"Recipients": ["custodian", "auditor"]})
    stored = server.upload(data)
    for name in ("custodian", "auditor"):
        restored = server.post("/instances/%s/reidentify" % stored["ID"], {"PrivateKey": private_key(keys, name)})
        assert_restored(read_bytes(CT), restored.content)
    r = server.post("/instances/%s/reidentify" % stored["ID"], {"PrivateKey": private_key(keys, "stranger")},
                    check=False)
    assert r.status_code == 400
    server.delete("/instances/%s" % stored["ID"])


def test_reidentify_study_job_stores_the_original(server, keys):
    original = server.upload(MR)
    study = original["ParentStudy"]
    job = server.post_json("/studies/%s/deidentify" % study, {"Recipients": ["custodian"], "KeepSource": False})
    job = server.wait_for_job(job["ID"])
    assert job["State"] == "Success"
    deid_study = job["Content"]["Resources"][0]["ID"]
    assert original["ID"] not in server.get_json("/instances")

    job = server.post_json("/studies/%s/reidentify" % deid_study, {"PrivateKey": private_key(keys)})
    job = server.wait_for_job(job["ID"])
    assert job["State"] == "Success", job
    content = job["Content"]
    assert content["ReidentifiedInstancesCount"] == 1
    assert "PRIVATE KEY" not in str(job)
    # The restored copy has the original UIDs, hence the original Orthanc IDs.
    assert content["Instances"] == [original["ID"]]
    assert content["Resources"][0]["ID"] == study
    assert_restored(read_bytes(MR), server.get("/instances/%s/file" % original["ID"]).content)

    # Synchronous, with the key in the headers.
    server.delete("/instances/%s" % original["ID"])
    headers = {"X-Deidentification-Private-Key": base64.b64encode(private_key(keys).encode()).decode()}
    answer = server.post_json("/studies/%s/reidentify" % deid_study, {"Synchronous": True}, headers=headers)
    assert answer["Instances"] == [original["ID"]]
    server.delete("/studies/%s" % deid_study)
    server.delete("/instances/%s" % original["ID"])


def test_wrong_or_missing_key_is_a_clear_400(server, keys):
    data = deidentify_file(server, CT, {"Recipients": ["custodian"]})
    stored = server.upload(data)
    wrong = {"PrivateKey": private_key(keys, "stranger")}

    r = server.post("/instances/%s/reidentify" % stored["ID"], wrong, check=False)
    assert r.status_code == 400
    assert "decrypt" in r.json()["Details"].lower()
    r = server.post("/studies/%s/reidentify" % stored["ParentStudy"], wrong, check=False)
    assert r.status_code == 400
    r = server.post("/tools/reidentify", data, check=False, headers={
        "X-Deidentification-Private-Key": base64.b64encode(private_key(keys, "stranger").encode()).decode()})
    assert r.status_code == 400

    r = server.post("/instances/%s/reidentify" % stored["ID"], {}, check=False)
    assert r.status_code == 400 and "private key" in r.json()["Details"].lower()
    r = server.post("/instances/%s/reidentify" % stored["ID"], {"PrivateKey": "not a key"}, check=False)
    assert r.status_code == 400
    r = server.post("/tools/reidentify", data, check=False, headers={"X-Deidentification-Private-Key": "%%%"})
    assert r.status_code == 400

    # No Encrypted Attributes Sequence at all.
    plain = server.upload(CT)
    r = server.post("/instances/%s/reidentify" % plain["ID"], {"PrivateKey": private_key(keys)}, check=False)
    assert r.status_code == 400 and "0400,0500" in r.json()["Details"]

    # Corrupted Encrypted Content.
    ds = pydicom.dcmread(io.BytesIO(data))
    content = bytearray(ds.EncryptedAttributesSequence[0].EncryptedContent)
    ds.EncryptedAttributesSequence[0].EncryptedContent = bytes(content[: len(content) // 2])
    out = io.BytesIO()
    ds.save_as(out)
    r = server.post("/tools/reidentify", out.getvalue(), check=False, headers={
        "X-Deidentification-Private-Key": base64.b64encode(private_key(keys).encode()).decode()})
    assert r.status_code == 400

    assert "BEGIN PRIVATE KEY" not in server.read_log()
    server.delete("/instances/%s" % stored["ID"])
    server.delete("/instances/%s" % plain["ID"])


def test_reidentification_is_audited(server, keys):
    data = deidentify_file(server, CT, {"Recipients": ["custodian"]})
    stored = server.upload(data)
    last = 0
    while True:   # the id of the last record so far
        page = server.get_json("/deidentification/audit?since=%d" % last)
        last = page["Records"][-1]["ID"] if page["Records"] else last
        if page["Done"]:
            break
    server.post("/instances/%s/reidentify" % stored["ID"], {"PrivateKey": private_key(keys)})
    server.post("/instances/%s/reidentify" % stored["ID"], {"PrivateKey": private_key(keys, "stranger")},
                check=False)
    records = server.get_json("/deidentification/audit?since=%d" % last)["Records"]
    reid = [r for r in records if r["Operation"] == "reidentify" and r["Source"] == [stored["ID"]]]
    assert [r["Status"] for r in reid] == ["Success", "Failure"]
    assert "PRIVATE KEY" not in str(records)
    server.delete("/instances/%s" % stored["ID"])


def test_tools_deidentify_with_recipient_header(server, keys):
    data = server.post("/tools/deidentify", read_bytes(CT),
                       headers={"X-Deidentification-Recipients": "custodian"}).content
    assert "EncryptedAttributesSequence" in pydicom.dcmread(io.BytesIO(data))
    restored = server.post("/tools/reidentify", data, headers={
        "X-Deidentification-Private-Key": base64.b64encode(private_key(keys).encode()).decode()}).content
    assert_restored(read_bytes(CT), restored)


gdcmanon = pytest.mark.skipif(shutil.which("gdcmanon") is None, reason="gdcmanon (libgdcm-tools) not installed")


@gdcmanon
@pytest.mark.parametrize("path", [CT, MR, RTPLAN])
def test_gdcmanon_reidentifies_plugin_output(server, keys, path, tmp_path):
    data = deidentify_file(server, path, {"Recipients": ["custodian"]})
    (tmp_path / "in.dcm").write_bytes(data)
    subprocess.run(["gdcmanon", "-d", "-k", keys["custodian"][0], "-i", str(tmp_path / "in.dcm"),
                    "-o", str(tmp_path / "out.dcm")], check=True, capture_output=True)
    assert_restored(read_bytes(path), (tmp_path / "out.dcm").read_bytes(), gdcm=True)


@gdcmanon
@pytest.mark.parametrize("path,cipher", [(CT, "--aes256"), (MR, "--des3"), (RTPLAN, "--aes128")])
def test_plugin_reidentifies_gdcmanon_output(server, keys, path, cipher, tmp_path):
    subprocess.run(["gdcmanon", "-e", cipher, "-c", keys["custodian"][1], "-i", path,
                    "-o", str(tmp_path / "e.dcm")], check=True, capture_output=True)
    protected = (tmp_path / "e.dcm").read_bytes()
    assert pydicom.dcmread(io.BytesIO(protected)).SOPInstanceUID != pydicom.dcmread(path).SOPInstanceUID

    headers = {"X-Deidentification-Private-Key": base64.b64encode(private_key(keys).encode()).decode()}
    restored = server.post("/tools/reidentify", protected, headers=headers).content
    assert_restored(read_bytes(path), restored, gdcm=False)


def test_configured_private_key_file(start_orthanc, keys):
    other = start_orthanc({"Deidentification": {"Recipients": {"custodian": keys["custodian"][1]},
                                                "EnableReidentification": True,
                                                "PrivateKeyFile": keys["custodian"][0]}}, name="keyfile")
    instance = other.upload(CT)
    data = other.post("/instances/%s/deidentify" % instance["ID"], {"Recipients": ["custodian"]}).content
    restored = other.post("/tools/reidentify", data).content   # no key in the request
    assert_restored(read_bytes(CT), restored)
    other.stop()


def test_reidentification_is_off_unless_configured(start_orthanc):
    for name, section in (("reid-default", {}), ("reid-off", {"EnableReidentification": False})):
        other = start_orthanc({"Deidentification": section}, name=name)
        r = other.post("/tools/reidentify", read_bytes(CT), check=False)
        assert r.status_code == 404
        instance = other.upload(CT)
        r = other.post("/instances/%s/reidentify" % instance["ID"], {}, check=False)
        assert r.status_code == 404
        other.stop()


def test_bad_recipient_certificate_refuses_to_start(start_orthanc, keys):
    server = start_orthanc({"Deidentification": {"Recipients": {"custodian": keys["custodian"][0]}}},
                           name="badcert", expect_failure=True)
    assert server.returncode != 0
    assert "Recipients.custodian" in server.read_log()
