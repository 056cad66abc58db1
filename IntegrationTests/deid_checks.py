"""Independent checks of de-identified files, written from PS3.15 Table E.1-1
(Profiles/AttributeConfidentialityProfile.json) with pydicom -- not with the
plugin's own code.

- find_leaks(): values of attributes that the profile says to remove or
  replace (X, Z, D, U and their combinations) must not appear anywhere in the
  bytes of the de-identified file (in the items of a D sequence: its text;
  see DUMMY_SEQUENCE_CODES). To avoid false positives, short values,
  non-ASCII values and values that also belong to attributes the profile
  keeps (or to the values the de-identifier itself writes) are skipped.
- uid_pairs(): original -> new UIDs for the attributes with action U, found
  by walking the original and the de-identified data sets in parallel.
- dciodvfy_errors(): the "Error - ..." lines of dciodvfy (dicom3tools),
  normalized so that values do not matter.
"""

import io
import json
import os
import re
import subprocess

import pydicom
from pydicom.dataelem import DataElement
from pydicom.sequence import Sequence

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLE_PATH = os.path.join(ROOT, "Profiles", "AttributeConfidentialityProfile.json")

KEEP = "keep"
CLEAN = "clean"
REMOVE = "remove"   # X, Z, D, U and combinations: the original value must go

# The constant replacement values the engine writes (Plugin/Engine/DummyValues.cpp)
# and the values it adds (PS3.15 E.1: method, codes).
CONSTANT_OUTPUT_VALUES = [b"19000101", b"19000101000000", b"000000", b"000D", b"ANONYMOUS",
                          b"urn:deidentified", b"YES", b"NO"]
DEIDENTIFIER_WRITTEN_TAGS = {0x00120062, 0x00120063, 0x00120064, 0x00280303}

TEXT_VRS = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC",
            "UI", "UR", "UT"}
BINARY_VRS = {"OB", "UN", "OW", "OF", "OD", "OL", "OV"}

# D on a sequence (README, "Sequences"): the items are kept, their content
# replaced by dummies. Unlisted values of these VRs become dummies; CS, UI,
# numbers and binary values are kept, and so are the coded attributes in the
# items of unlisted (code) sequences.
DUMMY_SEQUENCE_CODES = {"D", "Z/D", "X/D", "X/Z/D"}
FREE_TEXT_VRS = {"AE", "AS", "DA", "DT", "TM", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"}
CODE_KEYWORDS = {"CodeValue", "CodingSchemeDesignator", "CodingSchemeVersion", "CodeMeaning",
                 "MappingResource", "ContextGroupExtensionFlag", "ContextGroupExtensionCreatorUID",
                 "ContextIdentifier", "ContextUID", "MappingResourceUID", "LongCodeValue",
                 "URNCodeValue", "MappingResourceName"}
MIN_LENGTH = 6


class ProfileTable:
    def __init__(self, path=TABLE_PATH):
        with open(path) as f:
            data = json.load(f)
        self.exact = {}
        self.masks = []
        self.private_row = None
        for row in data["Attributes"]:
            text = row["Tag"]
            if "odd" in text:
                self.private_row = row
                continue
            m = re.fullmatch(r"\(([0-9A-Fa-fx]{4}),([0-9A-Fa-fx]{4})\)", text)
            if m is None:
                raise ValueError("Unexpected tag in Table E.1-1: " + text)
            g, e = m.group(1), m.group(2)
            if "x" in (g + e).lower():
                value = int((g + e).lower().replace("x", "0"), 16)
                mask = int("".join("0" if c in "xX" else "F" for c in g + e), 16)
                self.masks.append((value, mask, row))
            else:
                self.exact[int(g + e, 16)] = row

    def row(self, tag):
        tag = int(tag)
        group = tag >> 16
        if group % 2 == 1:
            return self.private_row
        if tag in self.exact:
            return self.exact[tag]
        for value, mask, row in self.masks:
            if tag & mask == value:
                return row
        return None

    def action(self, tag, options=()):
        """KEEP, CLEAN or REMOVE for a tag under the Basic Profile plus options."""
        tag = int(tag)
        group = tag >> 16
        if group == 0x0002:
            return KEEP
        row = self.row(tag)
        if row is None:
            return KEEP
        code = row["Basic"]
        for option in options:
            if option in row["Options"]:
                code = row["Options"][option]
        if code == "K":
            return KEEP
        if code == "C":
            return CLEAN
        return REMOVE

    def basic_code(self, tag):
        row = self.row(tag)
        return None if row is None else row["Basic"]

    def code(self, tag, options=()):
        """The action code of Table E.1-1 after options, None if not listed."""
        row = self.row(tag)
        if row is None:
            return None
        code = row["Basic"]
        for option in options:
            if option in row["Options"]:
                code = row["Options"][option]
        return code


_TABLE = None


def table():
    global _TABLE
    if _TABLE is None:
        _TABLE = ProfileTable()
    return _TABLE


def read(data):
    if isinstance(data, (bytes, bytearray)):
        return pydicom.dcmread(io.BytesIO(data), force=True)
    return pydicom.dcmread(data, force=True)


def _value_strings(elem):
    """The values of a non-sequence element as byte strings (whole value and components)."""
    if elem.value is None:
        return []
    if elem.VR in BINARY_VRS or isinstance(elem.value, (bytes, bytearray)):
        raw = bytes(elem.value) if isinstance(elem.value, (bytes, bytearray)) else b""
        return [raw.rstrip(b"\0 ")] if raw else []
    if elem.VR not in TEXT_VRS:
        return []
    values = elem.value if isinstance(elem.value, (list, tuple, pydicom.multival.MultiValue)) else [elem.value]
    result = []
    for v in values:
        s = str(v)
        try:
            b = s.encode("ascii")
        except UnicodeEncodeError:
            continue
        result.append(b.strip())
        if elem.VR == "PN":
            result.extend(p.strip() for p in re.split(rb"[\^=]", b))
    return [r for r in result if r]


def walk(ds, path=()):
    """(path, element) for every element at any depth; path = ((tag, item), ...)."""
    for elem in ds:
        here = path + ((int(elem.tag), None),)
        yield here, elem
        if elem.VR == "SQ" and isinstance(elem.value, Sequence):
            for index, item in enumerate(elem.value):
                yield from walk(item, path + ((int(elem.tag), index),))


def classify(ds, options=()):
    """(forbidden, allowed): values the output must not contain, and the byte
    strings of kept attributes (used to skip false positives)."""
    t = table()
    forbidden = {}    # value -> description
    allowed = []

    def collect_all(elem, where, sink):
        if elem.VR == "SQ":
            for item in elem.value or []:
                for _, sub in walk(item):
                    if sub.VR != "SQ":
                        for v in _value_strings(sub):
                            sink(v, where)
        else:
            for v in _value_strings(elem):
                sink(v, where)

    quiet = [0]   # > 0: inside a cleaned sequence, nothing is asserted

    def forbid(value, where):
        if quiet[0] == 0:
            forbidden.setdefault(value, where)

    def allow(value, where):
        allowed.append(value)

    def visit_dummy(dataset, where, keep_codes):
        """The items of a D sequence: see DUMMY_SEQUENCE_CODES."""
        for elem in dataset:
            name = "%s%s" % (where, elem.keyword or str(elem.tag))
            if t.row(elem.tag) is not None or elem.tag.is_private:
                visit_element(elem, where, True)
            elif elem.VR == "SQ":
                for item in elem.value or []:
                    visit_dummy(item, name + ".", True)
            elif elem.VR in FREE_TEXT_VRS and not (keep_codes and elem.keyword in CODE_KEYWORDS):
                for v in _value_strings(elem):
                    forbid(v, name)
            else:
                for v in _value_strings(elem):
                    allow(v, name)

    def visit(dataset, where):
        for elem in dataset:
            visit_element(elem, where, False)

    def visit_element(elem, where, dummy):
        name = "%s%s" % (where, elem.keyword or str(elem.tag))
        action = t.action(elem.tag, options)
        if action == REMOVE and elem.VR == "SQ" and t.basic_code(elem.tag) == "X/Z/U*":
            # U* (Table E.1-1a): a sequence of references is kept, the
            # UIDs inside are replaced (their own rows say U).
            if dummy:
                for item in elem.value or []:
                    visit_dummy(item, name + ".", True)
                return
            action = KEEP
        if action == REMOVE and elem.VR == "SQ" and t.code(elem.tag, options) in DUMMY_SEQUENCE_CODES:
            for item in elem.value or []:
                visit_dummy(item, name + ".", False)
        elif action == REMOVE:
            collect_all(elem, name, forbid)
        elif action == CLEAN:
            if elem.VR == "SQ" and t.basic_code(elem.tag) in DUMMY_SEQUENCE_CODES:
                # Whatever the cleaner does, the coded concepts, CS, UIDs and
                # numbers of these items may stay (as in a D sequence).
                quiet[0] += 1
                for item in elem.value or []:
                    visit_dummy(item, name + ".", False)
                quiet[0] -= 1
            return
        elif elem.VR == "SQ":
            for item in elem.value or []:
                visit(item, name + ".")
        else:
            for v in _value_strings(elem):
                allow(v, name)

    visit(ds, "")
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        for keyword in ("MediaStorageSOPClassUID", "TransferSyntaxUID"):
            if keyword in meta:
                allowed.extend(_value_strings(meta[keyword]))
    return forbidden, allowed


def find_leaks(source, output_bytes, options=()):
    """Forbidden original values found in the bytes of the de-identified file.
    Returns a list of (attribute, value) pairs."""
    ds = read(source)
    out = read(output_bytes)
    forbidden, allowed = classify(ds, options)

    # What the de-identifier writes itself.
    for path, elem in walk(out):
        if any(tag in DEIDENTIFIER_WRITTEN_TAGS for tag, _ in path) and elem.VR != "SQ":
            allowed.extend(_value_strings(elem))
    haystack_allowed = b"\0\1".join(allowed + CONSTANT_OUTPUT_VALUES)

    # New UIDs and pseudonyms are generated (keyed with a random secret), not
    # original content: blank them before searching, so that a run of digits
    # inside a new UID is not taken for an original time or number.
    source_values = set()
    for _, elem in walk(ds):
        source_values.update(_value_strings(elem))
    haystack = output_bytes
    for _, elem in walk(out):
        if elem.VR == "UI" or int(elem.tag) in (0x00100010, 0x00100020):
            for v in _value_strings(elem):
                if v not in source_values:
                    haystack = haystack.replace(v, b"\0" * len(v))

    leaks = []
    for value, where in forbidden.items():
        if len(value) < MIN_LENGTH or len(set(value)) < 3:
            continue
        if value in haystack and value not in haystack_allowed:
            leaks.append((where, value))
    return leaks


def uid_pairs(source, output, options=()):
    """(path, original UID, new UID) for each element with action U (or
    X/Z/U*) present in both data sets at the same path."""
    t = table()
    src = read(source) if not isinstance(source, pydicom.Dataset) else source
    out = read(output) if not isinstance(output, pydicom.Dataset) else output
    out_by_path = {p: e for p, e in walk(out)}
    pairs = []
    for path, elem in walk(src):
        if elem.VR != "UI" or not elem.value:
            continue
        # Skip what is inside cleaned sequences (not a U action on a known path).
        if any(t.action(tag, options) == CLEAN for tag, _ in path[:-1]):
            continue
        code = t.basic_code(elem.tag)
        if code not in ("U", "X/Z/U*") or "RetainUIDs" in options:
            continue
        o = out_by_path.get(path)
        if o is None or not o.value:
            continue
        pairs.append((path, str(elem.value), str(o.value)))
    return pairs


def _normalize(line):
    """Keeps the message and the attribute/module names, drops the values."""
    line = re.sub(r"= <[^>]*>", "= <>", line)          # values: "UI [1] = <0>"
    line = re.sub(r"\"[^\"]*\"", '""', line)
    line = re.sub(r"\b\d[\d.]*\b", "N", line)           # UIDs, numbers, counts
    line = re.sub(r"\s+", " ", line)
    return line.strip()


def dciodvfy_errors(path):
    """The set of normalized "Error - ..." lines of dciodvfy for a file."""
    result = subprocess.run(["dciodvfy", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            timeout=120)
    text = result.stdout.decode("utf-8", "replace")
    errors = {_normalize(line) for line in text.splitlines() if line.startswith("Error")}
    if result.returncode < 0:
        errors.add("dciodvfy Aborted (signal %d)" % -result.returncode)
    return errors
