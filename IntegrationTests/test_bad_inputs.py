"""Bad inputs through POST /tools/deidentify on a real Orthanc (issue 9, item 7).

Each input gets a 400 with a clear message or a correct de-identified file,
never a crash (Orthanc answers /system after each), never an identifying value
in the answer or in Orthanc's log. The engine-level table is
UnitTests/BadInputTests.cpp; these are the same kinds of input end to end.
Malformed files are put together by hand: no DICOM library writes them.
"""

import io
import os
import struct

import pydicom
import pytest

from conftest import PYDICOM_TEST_FILES

PATIENT_NAME = b"Doe^Johnathan"
PATIENT_ID = b"PID-98765X"
STUDY_UID = b"1.2.3.4.5.6.7.1"
SOP_UID = b"1.2.3.4.5.6.7.100"
IDENTIFIERS = [PATIENT_NAME, PATIENT_ID, STUDY_UID, SOP_UID]
LONG_VRS = {b"OB", b"OW", b"SQ", b"UN", b"UT", b"UC", b"UR", b"OF", b"OD", b"OL", b"OV"}
HUGE = 0xFFFFFFF0


def pad(value, byte=b" "):
    return value + byte if len(value) % 2 else value


def explicit(group, element, vr, value, length=None):
    length = len(value) if length is None else length
    if vr in LONG_VRS:
        return struct.pack("<HH2sHI", group, element, vr, 0, length) + value
    return struct.pack("<HH2sH", group, element, vr, length) + value


def item_tag(element, length):
    return struct.pack("<HHI", 0xFFFE, element, length)


def part10(dataset, transfer_syntax=b"1.2.840.10008.1.2.1", group_length=None):
    group = (explicit(2, 1, b"OB", b"\0\1") +
             explicit(2, 2, b"UI", pad(b"1.2.840.10008.5.1.4.1.1.7", b"\0")) +
             explicit(2, 3, b"UI", pad(SOP_UID, b"\0")) +
             explicit(2, 0x10, b"UI", pad(transfer_syntax, b"\0")))
    length = len(group) if group_length is None else group_length
    return b"\0" * 128 + b"DICM" + explicit(2, 0, b"UL", struct.pack("<I", length)) + group + dataset


def dataset(patient_name=PATIENT_NAME, charset=None, extra_after_id=b""):
    out = b""
    if charset is not None:
        out += explicit(8, 5, b"CS", pad(charset))
    out += (explicit(8, 0x16, b"UI", pad(b"1.2.840.10008.5.1.4.1.1.7", b"\0")) +
            explicit(8, 0x18, b"UI", pad(SOP_UID, b"\0")) +
            explicit(8, 0x60, b"CS", b"OT") +
            explicit(0x10, 0x10, b"PN", pad(patient_name)) +
            explicit(0x10, 0x20, b"LO", pad(PATIENT_ID)) +
            extra_after_id +
            explicit(0x20, 0x0D, b"UI", pad(STUDY_UID, b"\0")) +
            explicit(0x20, 0x0E, b"UI", pad(b"1.2.3.4.5.6.7.2", b"\0")))
    return out


def read_test_file(name):
    with open(os.path.join(PYDICOM_TEST_FILES, name), "rb") as f:
        return f.read()


def deflated_part(name="image_dfl.dcm"):
    data = read_test_file(name)
    (meta_length,) = struct.unpack("<I", data[140:144])
    return data[144 + meta_length:]


def private_elements(group, count):
    """count private elements of one group, in blocks of 256 with their creators."""
    blocks = (count + 255) // 256
    creators = [explicit(group, block, b"LO", b"CREATOR ") for block in range(0x10, 0x10 + blocks)]
    return b"".join(creators + [explicit(group, ((0x10 + n // 256) << 8) | (n % 256), b"LO", b"SECRET")
                                for n in range(count)])


CT_SMALL = read_test_file("CT_small.dcm")
CT_IDENTIFIERS = [b"CompressedSamples^CT1", b"1.3.6.1.4.1.5962.1.2.1.20040119072730.12322",
                  b"1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"]

CASES = [
    ("CT_small truncated at %d" % n, CT_SMALL[:n], CT_IDENTIFIERS)
    for n in (1, 131, 132, 140, 300, 700, 1200, 5000, 20000, len(CT_SMALL) - 1)
] + [
    ("element length 0xFFFFFFF0", part10(dataset(extra_after_id=explicit(0x10, 0x4000, b"UT", b"comment ", HUGE))),
     IDENTIFIERS),
    ("sequence length 0xFFFFFFF0",
     part10(dataset() + explicit(0x40, 0x275, b"SQ", b"", HUGE) + item_tag(0xE000, 12) +
            explicit(0x40, 9, b"SH", b"SPS1")), IDENTIFIERS),
    ("item length 0xFFFFFFF0",
     part10(dataset() + explicit(0x40, 0x275, b"SQ", b"", 0xFFFFFFFF) + item_tag(0xE000, HUGE) +
            explicit(0x40, 9, b"SH", b"SPS1") + item_tag(0xE0DD, 0)), IDENTIFIERS),
    ("100,000 private elements",
     part10(dataset(extra_after_id=private_elements(0x11, 61440) + private_elements(0x13, 38560))),
     IDENTIFIERS + [b"SECRET"]),
    ("invalid UTF-8 bytes", part10(dataset(b"\xff\xfe\xc3\x28" + PATIENT_NAME, b"ISO_IR 192")), IDENTIFIERS),
    ("unknown Specific Character Set", part10(dataset(charset=b"ISO_IR 999")), IDENTIFIERS),
    ("unknown transfer syntax UID", part10(dataset(), b"1.2.3.4.5.6.7.8.9"), IDENTIFIERS),
    ("deflated transfer syntax, data not deflated", part10(dataset(), b"1.2.840.10008.1.2.1.99"), IDENTIFIERS),
    ("explicit VR declared, data deflated", part10(deflated_part()), IDENTIFIERS),
    ("odd lengths",
     part10(explicit(8, 0x16, b"UI", b"1.2.840.10008.5.1.4.1.1.7") + explicit(8, 0x18, b"UI", SOP_UID) +
            explicit(0x10, 0x10, b"PN", PATIENT_NAME) + explicit(0x10, 0x20, b"LO", PATIENT_ID + b"1") +
            explicit(0x20, 0x0D, b"UI", STUDY_UID)), IDENTIFIERS),
    ("file meta group length too small", part10(dataset(), group_length=10), IDENTIFIERS),
    ("file meta group length too large", part10(dataset(), group_length=5000), IDENTIFIERS),
]


@pytest.mark.parametrize("label,data,identifiers", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_400_or_a_clean_file(orthanc, label, data, identifiers):
    response = orthanc.post("/tools/deidentify", data, check=False,
                            headers={"Content-Type": "application/dicom"})
    assert response.status_code in (200, 400), (label, response.status_code, response.text[:500])
    for value in identifiers:
        assert value not in response.content, (label, value)
    if response.status_code == 200:
        ds = pydicom.dcmread(io.BytesIO(response.content))
        assert ds.PatientIdentityRemoved == "YES"
    else:
        assert response.text.strip(), label
    # The server is alive, and its log holds none of the values.
    assert orthanc.get("/system").status_code == 200
    log = orthanc.read_log().encode("utf-8", "replace")
    for value in identifiers:
        assert value not in log, (label, value)
