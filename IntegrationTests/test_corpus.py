"""De-identification of the whole pydicom test corpus in a real Orthanc, at
every level, with the Basic Profile and with each of the 10 options of Table
E.1-1, checked independently with pydicom (deid_checks.py) and dciodvfy.

The runs use the profile "headers-only" (the Basic Profile with
AcceptBurnedInAnnotationRisk): the corpus holds ultrasound and secondary
captures, which the default profile refuses without CleanPixelData
(test_default_profile_refuses_burned_in_text); their headers are checked
all the same."""

import collections
import os
import tempfile

import pydicom
import pytest

import deid_checks
from conftest import PYDICOM_TEST_FILES, TABLE_OPTIONS

LEVELS = ["patients", "studies", "series", "instances"]
PROFILE = "headers-only"

# PS3.15 E.3.1: what the default profile refuses without CleanPixelData.
BURNED_IN_MODALITIES = {"US", "SC", "OT", "XC", "ES"}
BURNED_IN_SOP_CLASSES = {"1.2.840.10008.5.1.4.1.1.7", "1.2.840.10008.5.1.4.1.1.7.1", "1.2.840.10008.5.1.4.1.1.7.2",
                         "1.2.840.10008.5.1.4.1.1.7.3", "1.2.840.10008.5.1.4.1.1.7.4",
                         "1.2.840.10008.5.1.4.1.1.6.1", "1.2.840.10008.5.1.4.1.1.3.1", "1.2.840.10008.5.1.4.1.1.6.2"}

# (run name, level, options): the Basic Profile at every level, then each
# option once, at levels taken in turn.
RUNS = [("Basic-" + level, level, []) for level in LEVELS] + \
       [(option, LEVELS[i % len(LEVELS)], [option]) for i, option in enumerate(TABLE_OPTIONS)]


@pytest.fixture(scope="module")
def corpus(orthanc):
    """Uploads every file of the pydicom test corpus that Orthanc accepts."""
    instances = {}   # Orthanc ID -> path of the file stored first
    parents = {"patients": set(), "studies": set(), "series": set()}
    counts = collections.Counter()   # (level, Orthanc ID) -> number of instances
    members = collections.defaultdict(set)   # (level, Orthanc ID) -> instance IDs
    refused = []
    identities = set()
    for directory, _, files in os.walk(PYDICOM_TEST_FILES):
        for name in sorted(files):
            path = os.path.join(directory, name)
            answer = orthanc.upload(path)
            if answer is None:
                refused.append(path)
                continue
            if answer["ID"] in instances:
                continue   # the same instance in another file: Orthanc keeps the first
            ds = deid_checks.read(path)
            identity = tuple(str(ds.get(k, "")).strip() for k in
                             ("PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"))
            if identity in identities:
                # The same instance encoded differently (e.g. without meta header):
                # Orthanc may see two instances, but the key store gives one copy.
                orthanc.delete("/instances/" + answer["ID"])
                continue
            identities.add(identity)
            instances[answer["ID"]] = path
            parents["patients"].add(answer["ParentPatient"])
            parents["studies"].add(answer["ParentStudy"])
            parents["series"].add(answer["ParentSeries"])
            counts[("patients", answer["ParentPatient"])] += 1
            counts[("studies", answer["ParentStudy"])] += 1
            counts[("series", answer["ParentSeries"])] += 1
            for level, key in (("patients", "ParentPatient"), ("studies", "ParentStudy"),
                               ("series", "ParentSeries")):
                members[(level, answer[key])].add(answer["ID"])
    return {"instances": instances, "parents": parents, "counts": counts, "members": members,
            "refused": refused}


Output = collections.namedtuple("Output", "operation source_id source_path new_id data")

_runs = {}


def run_deidentification(orthanc, corpus, level, options):
    """De-identifies every source resource at a level; returns (outputs, failures)."""
    outputs = []
    failures = []
    if level == "instances":
        for source_id, path in sorted(corpus["instances"].items()):
            r = orthanc.post("/instances/%s/deidentify" % source_id, {"Profile": PROFILE, "Options": options},
                             check=False)
            if r.status_code != 200:
                failures.append({"Instance": source_id, "Error": r.text[:500]})
                continue
            outputs.append(Output(source_id, source_id, path, None, r.content))
        return outputs, failures

    jobs = []
    for resource in sorted(corpus["parents"][level]):
        answer = orthanc.post_json("/%s/%s/deidentify" % (level, resource),
                                   {"Profile": PROFILE, "Options": options})
        jobs.append((resource, answer["ID"]))

    for resource, job_id in jobs:
        job = orthanc.wait_for_job(job_id)
        content = job["Content"]
        failures.extend(content["FailedInstances"])
        assert content["InstancesCount"] == corpus["counts"][(level, resource)]
        # One new resource per original resource -- per patient key of the
        # pseudonym provider: Orthanc groups patients by Patient ID only, so a
        # "patient" without Patient ID may hold several real patients.
        expected = set()
        for source_id, path in corpus["instances"].items():
            if source_id in corpus["members"][(level, resource)]:
                ds = deid_checks.read(path)
                key = (str(ds.get("PatientID", "")), str(ds.get("IssuerOfPatientID", "")),
                       "" if ds.get("PatientID", "") else str(ds.get("PatientName", "")))
                if level != "patients":
                    key += (ds.get("StudyInstanceUID", ""),)
                if level == "series":
                    key += (ds.get("SeriesInstanceUID", ""),)
                expected.add(key)
        if content["FailedInstancesCount"] == 0:
            assert len(content["Resources"]) == len(expected), "one new resource per original resource"
        if level == "patients" and len(content["Resources"]) == 1:
            assert content["PatientID"] == content["Resources"][0]["ID"]
        for new in content["Resources"]:
            for instance in orthanc.get_json("/%s/%s/instances" % (level, new["ID"])):
                # a copy may share its resource with others (e.g. an empty Patient ID)
                metadata = orthanc.get_json("/instances/%s/metadata?expand" % instance["ID"])
                if metadata.get("DeidentificationJob") != job_id:
                    continue
                source_id = metadata["DeidentifiedFrom"]
                data = orthanc.get("/instances/%s/file" % instance["ID"]).content
                outputs.append(Output(job_id, source_id, corpus["instances"][source_id], instance["ID"], data))
        assert len([o for o in outputs if o.operation == job_id]) == content["DeidentifiedInstancesCount"]

    # Remove the copies: the key store makes copies deterministic, so the next
    # run (other options) would otherwise find them "AlreadyStored".
    for new_id in {o.new_id for o in outputs}:
        orthanc.delete("/instances/" + new_id)
    return outputs, failures


@pytest.fixture(scope="module", params=RUNS, ids=[r[0] for r in RUNS])
def run(request, orthanc, corpus):
    name, level, options = request.param
    if name not in _runs:
        outputs, failures = run_deidentification(orthanc, corpus, level, options)
        _runs[name] = {"name": name, "level": level, "options": options, "outputs": outputs,
                       "failures": failures}
    return _runs[name]


def test_corpus_is_uploaded(corpus):
    # Debian's pydicom ships about 80 test files that Orthanc accepts.
    assert len(corpus["instances"]) >= 50
    assert len(corpus["parents"]["studies"]) >= 20


def _may_carry_burned_in_text(path):
    ds = deid_checks.read(path)
    if not any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        return False
    return (str(ds.get("BurnedInAnnotation", "")).upper() == "YES" or
            str(ds.get("Modality", "")).strip() in BURNED_IN_MODALITIES or
            str(ds.get("SOPClassUID", "")).strip() in BURNED_IN_SOP_CLASSES)


def test_default_profile_refuses_burned_in_text(orthanc, corpus):
    """Without CleanPixelData, the default profile refuses every instance that
    may carry burned-in text, with a reason naming the attribute; it accepts the others."""
    risky = {i: p for i, p in corpus["instances"].items() if _may_carry_burned_in_text(p)}
    assert len(risky) >= 20   # ultrasound and secondary captures of the corpus
    for source_id, path in sorted(risky.items()):
        r = orthanc.post("/instances/%s/deidentify" % source_id, {}, check=False)
        assert r.status_code == 400, path
        details = r.json()["Details"]
        assert "burned-in" in details and "AcceptBurnedInAnnotationRisk" in details, details
        assert source_id in details
    safe = sorted(set(corpus["instances"]) - set(risky))[:5]
    for source_id in safe:
        assert orthanc.post("/instances/%s/deidentify" % source_id, {}, check=False).status_code == 200


def _is_expected_failure(failure, run, corpus):
    """With RetainUIDs, a copy of an instance without Patient ID has the same
    Orthanc identity (Patient ID + UIDs) as its source: it cannot be stored
    next to it, and the job says so."""
    path = corpus["instances"].get(failure["Instance"])
    if path is None or "RetainUIDs" not in run["options"]:
        return False
    return not str(deid_checks.read(path).get("PatientID", "")).strip() and \
        "same Orthanc ID as its source" in failure["Error"] and failure["Instance"] in failure["Error"]


def test_every_instance_is_deidentified(run, corpus):
    unexpected = [f for f in run["failures"] if not _is_expected_failure(f, run, corpus)]
    assert unexpected == []
    failed = {f["Instance"] for f in run["failures"]}
    assert len(run["outputs"]) == len(corpus["instances"]) - len(failed)
    assert {o.source_id for o in run["outputs"]} == set(corpus["instances"]) - failed


def test_no_removed_or_replaced_value_remains(run):
    leaks = []
    for o in run["outputs"]:
        for attribute, value in deid_checks.find_leaks(o.source_path, o.data, run["options"]):
            leaks.append("%s: %s = %r" % (os.path.basename(o.source_path), attribute, value[:80]))
    assert not leaks, "\n" + "\n".join(leaks)


def test_output_marks_deidentification(run):
    for o in run["outputs"]:
        ds = deid_checks.read(o.data)
        assert ds.PatientIdentityRemoved == "YES", o.source_path
        codes = [item.CodeValue for item in ds.DeidentificationMethodCodeSequence]
        assert codes[0] == "113100"
        assert len(codes) == 1 + len(run["options"]), (o.source_path, codes)


def test_uids_consistent_within_each_operation(run):
    by_operation = collections.defaultdict(list)
    for o in run["outputs"]:
        by_operation[o.operation].append(o)

    problems = []
    for operation, outputs in by_operation.items():
        forward = collections.defaultdict(set)
        backward = collections.defaultdict(set)
        originals = set()
        for o in outputs:
            source = deid_checks.read(o.source_path)
            output = deid_checks.read(o.data)
            if "RetainUIDs" in run["options"]:
                if output.SOPInstanceUID != source.SOPInstanceUID:
                    problems.append("%s: RetainUIDs changed the SOP Instance UID" % o.source_path)
                continue
            for path, old, new in deid_checks.uid_pairs(source, output):
                forward[old].add(new)
                backward[new].add(old)
                originals.add(old)
                if old == new:
                    problems.append("%s: UID kept at %s" % (os.path.basename(o.source_path), path))
        for old, news in forward.items():
            if len(news) != 1:
                problems.append("operation %s: one original UID mapped to %d new UIDs" % (operation, len(news)))
        for new, olds in backward.items():
            if len(olds) != 1:
                problems.append("operation %s: %d original UIDs mapped to one new UID" % (operation, len(olds)))
        # no original UID anywhere in the operation's outputs
        for o in outputs:
            for old in originals:
                if len(old) >= 10 and old.encode() in o.data:
                    problems.append("%s: an original UID remains" % os.path.basename(o.source_path))
                    break
    assert not problems, "\n" + "\n".join(problems)


def test_new_study_series_structure(run, orthanc, corpus):
    """One new study per original study and one new series per original series."""
    if run["level"] == "instances":
        pytest.skip("the instance route stores nothing")
    by_operation = collections.defaultdict(list)
    for o in run["outputs"]:
        by_operation[o.operation].append(o)
    for operation, outputs in by_operation.items():
        study_map = collections.defaultdict(set)
        series_map = collections.defaultdict(set)
        for o in outputs:
            src = deid_checks.read(o.source_path)
            out = deid_checks.read(o.data)
            study_map[src.StudyInstanceUID].add(out.StudyInstanceUID)
            series_map[src.SeriesInstanceUID].add(out.SeriesInstanceUID)
        assert all(len(v) == 1 for v in study_map.values())
        assert all(len(v) == 1 for v in series_map.values())
        assert len({next(iter(v)) for v in study_map.values()}) == len(study_map)
        assert len({next(iter(v)) for v in series_map.values()}) == len(series_map)


_dciodvfy_sources = {}


def test_dciodvfy_no_new_errors(run, tmp_path):
    new_errors = []
    for o in run["outputs"]:
        if o.source_path not in _dciodvfy_sources:
            _dciodvfy_sources[o.source_path] = deid_checks.dciodvfy_errors(o.source_path)
        before = _dciodvfy_sources[o.source_path]
        if any("Aborted" in e for e in before):
            continue
        output_path = tmp_path / "output.dcm"
        output_path.write_bytes(o.data)
        after = deid_checks.dciodvfy_errors(str(output_path))
        for error in sorted(after - before):
            new_errors.append("%s: %s" % (os.path.basename(o.source_path), error))
    assert not new_errors, "\n" + "\n".join(new_errors)


# Attributes whose values identify a patient or a person in the corpus.
IDENTIFYING_KEYWORDS = ("PatientName", "PatientID", "PatientBirthDate", "OtherPatientIDs",
                        "InstitutionName", "ReferringPhysicianName", "OperatorsName",
                        "PerformingPhysicianName", "AccessionNumber", "StudyID")


def test_orthanc_log_holds_no_patient_value(orthanc, corpus):
    """Logs never contain patient data: after every run above (including the
    failures), no identifying value of the corpus appears in Orthanc's log."""
    for name, level, options in RUNS:
        if name not in _runs:
            _runs[name] = {"outputs": run_deidentification(orthanc, corpus, level, options)}
    log = orthanc.read_log()
    assert "De-identification" in log or "deidentification" in log.lower()   # the plugin did log
    values = set()
    for path in corpus["instances"].values():
        ds = deid_checks.read(path)
        for keyword in IDENTIFYING_KEYWORDS:
            value = str(ds.get(keyword, "") or "").strip()
            if len(value) >= 5 and len(set(value)) >= 3:
                values.add(value)
    assert len(values) >= 10
    leaked = sorted(v for v in values if v in log)
    assert not leaked, "patient values in the Orthanc log: %d" % len(leaked)
