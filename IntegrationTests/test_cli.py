"""The command-line front end build/orthanc-deidentify (issue 14): folder in,
folder out, failures and exit codes, the same pseudonyms/UIDs/date offsets as
the plugin on the same configuration and key store, encryption for a
recipient then re-identification, and -j 1 == -j 2."""

import json
import secrets
import sqlite3
import os
import shutil
import subprocess
import tempfile

import pydicom
import pytest

from conftest import PYDICOM_TEST_FILES, ROOT, SANITIZER_REPORTS, base_config, free_port

# DEID_CLI: another build of the CLI (Resources/SanitizerTests.sh: the ASan build).
CLI = os.environ.get("DEID_CLI", os.path.join(ROOT, "build", "orthanc-deidentify"))
PYDICOM_CT = os.path.join(PYDICOM_TEST_FILES, "CT_small.dcm")
PYDICOM_MR = os.path.join(PYDICOM_TEST_FILES, "MR_small.dcm")
RESEARCH = {"Profile": "research"}   # base_config: RetainLongitudinalModifiedDates, ...


def run_cli(*args, check_code=None):
    result = subprocess.run([CLI] + [str(a) for a in args], capture_output=True, text=True, timeout=120)
    for report in SANITIZER_REPORTS:   # a CLI built with -DDEID_SANITIZE=ON (Resources/SanitizerTests.sh)
        assert report not in result.stderr, result.stderr
    if check_code is not None:
        assert result.returncode == check_code, result.stderr
    return result


def make_instance(path, patient_id="PAT-CLI-1", study_uid=None, series_uid=None, source=PYDICOM_CT):
    ds = pydicom.dcmread(source)
    ds.PatientID = patient_id
    ds.PatientName = "Cli^Patient"
    ds.StudyDate = "20200315"
    ds.StudyInstanceUID = study_uid or pydicom.uid.generate_uid()
    ds.SeriesInstanceUID = series_uid or pydicom.uid.generate_uid()
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    os.makedirs(os.path.dirname(path), exist_ok=True)
    ds.save_as(path)
    return ds


def make_study(folder, patient_id="PAT-CLI-1"):
    """3 instances in 2 series, in nested folders whose names identify."""
    study = pydicom.uid.generate_uid()
    series = [pydicom.uid.generate_uid(), pydicom.uid.generate_uid()]
    return [make_instance(os.path.join(folder, "Cli^Patient", "series-a", "1.dcm"), patient_id, study, series[0]),
            make_instance(os.path.join(folder, "Cli^Patient", "series-a", "deeper", "2.dcm"), patient_id, study,
                          series[0]),
            make_instance(os.path.join(folder, "Cli^Patient", "series-b", "3"), patient_id, study, series[1])]


def output_files(folder):
    found = []
    for directory, _, names in os.walk(folder):
        found += [os.path.join(directory, n) for n in names]
    return sorted(found)


def write_config(directory, deidentification=None):
    """An Orthanc configuration file as conftest writes it (SQLite key store in its storage)."""
    config = base_config(directory, free_port(), free_port())
    config["Deidentification"].update(deidentification or {})
    path = os.path.join(directory, "orthanc.json")
    with open(path, "w") as f:
        json.dump(config, f)
    return path


@pytest.fixture
def work():
    directory = tempfile.mkdtemp(prefix="deid-cli-")
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def test_folder_in_folder_out_with_failures(work):
    inputs = os.path.join(work, "in")
    originals = make_study(inputs)
    with open(os.path.join(inputs, "Cli^Patient", "notes.txt"), "w") as f:
        f.write("not DICOM at all\n")
    with open(PYDICOM_CT, "rb") as f:
        data = f.read()
    with open(os.path.join(inputs, "truncated.dcm"), "wb") as f:
        f.write(data[:len(data) // 2])
    config = write_config(work)
    out = os.path.join(work, "out")
    summary_path = os.path.join(work, "summary.json")

    result = run_cli("deidentify", inputs, "--output", out, "-c", config, "--summary-json", summary_path,
                     "--no-progress", check_code=1)

    with open(summary_path) as f:
        summary = json.load(f)
    assert summary["Succeeded"] == 3 and summary["Failed"] == 2
    assert summary["FailuresByReason"]["not a DICOM file"] == 1
    assert sum(summary["FailuresByReason"].values()) == 2
    truncated_reason = [r for r in summary["FailuresByReason"] if r != "not a DICOM file"][0]
    assert "truncated" in truncated_reason or "Cannot parse DICOM" in truncated_reason
    assert summary["InputBytes"] > 0 and summary["Seconds"] > 0 and summary["InstancesPerSecond"] > 0
    assert "MegabytesPerSecond" in summary
    # The human summary on stderr: counts and reasons, never a patient value.
    assert "3 succeeded, 2 failed" in result.stderr and "not a DICOM file" in result.stderr
    assert "instances/s" in result.stderr and "MB/s" in result.stderr
    # Only the failed files' own paths (the user's) are named.
    others = [line for line in result.stderr.splitlines() if not line.startswith("failed: " + inputs)]
    assert len(others) < len(result.stderr.splitlines())
    for value in ("Cli^Patient", "PAT-CLI-1"):
        assert value not in "\n".join(others)

    files = output_files(out)
    assert len(files) == 3
    original_uids = {ds.StudyInstanceUID for ds in originals} | {ds.SOPInstanceUID for ds in originals}
    for path in files:
        ds = pydicom.dcmread(path)
        # OUTPUT/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm, the new UIDs
        assert os.path.relpath(path, out) == os.path.join(ds.StudyInstanceUID, ds.SeriesInstanceUID,
                                                          ds.SOPInstanceUID + ".dcm")
        assert ds.StudyInstanceUID not in original_uids and ds.SOPInstanceUID not in original_uids
        assert ds.PatientIdentityRemoved == "YES"
        assert str(ds.PatientName) != "Cli^Patient" and ds.PatientID != "PAT-CLI-1"
        assert "Patient" not in path and "series-" not in path
    assert len({pydicom.dcmread(p).SeriesInstanceUID for p in files}) == 2
    assert len({pydicom.dcmread(p).StudyInstanceUID for p in files}) == 1


@pytest.mark.parametrize("store", ["SQLite", "PostgreSQL"])
def test_same_pseudonyms_uids_and_dates_as_the_plugin(start_orthanc, work, store):
    if store == "SQLite":
        key_store = {"Path": os.path.join(work, "keys.db")}
    else:
        conninfo = os.environ.get("DEID_TEST_POSTGRES", "")
        if not conninfo:
            pytest.skip("DEID_TEST_POSTGRES is not set (see Resources/StartTestPostgres.sh)")
        key_store = {"Type": "PostgreSQL", "ConnectionString": conninfo}
    # A new project per run: a PostgreSQL database outlives the test.
    project = "trial" + secrets.token_hex(4)
    server = start_orthanc({"Deidentification": {
        "KeyStore": key_store,
        "Projects": {project: {"Pseudonym": {"Prefix": "TRIAL", "Digits": 6}}},
    }}, name="cli-same-" + store)
    inputs = os.path.join(work, "in")
    make_study(inputs, patient_id="PAT-SAME")

    through_plugin = {}
    for path in output_files(inputs):
        with open(path, "rb") as f:
            uploaded = server.upload(f.read())
        instance_id = uploaded["ID"]
        body = dict(RESEARCH, Project=project)
        answer = server.post("/instances/%s/deidentify" % instance_id, json.dumps(body))
        copy = pydicom.dcmread(pydicom.filebase.DicomBytesIO(answer.content))
        through_plugin[copy.SOPInstanceUID] = copy

    out = os.path.join(work, "out")
    run_cli("deidentify", inputs, "-o", out, "-c", server.config_path,
            "-r", json.dumps(dict(RESEARCH, Project=project)), "--no-progress", check_code=0)
    through_cli = {pydicom.dcmread(p).SOPInstanceUID: pydicom.dcmread(p) for p in output_files(out)}

    assert sorted(through_cli) == sorted(through_plugin)
    for uid, cli_copy in through_cli.items():
        plugin_copy = through_plugin[uid]
        assert cli_copy.PatientID.startswith("TRIAL")
        for keyword in ("PatientID", "PatientName", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
                        "StudyDate", "SeriesDate"):
            assert str(cli_copy.get(keyword)) == str(plugin_copy.get(keyword)), keyword
        assert cli_copy.StudyDate != "20200315"   # shifted by the patient's offset (E.3.6)

    # The CLI run is in the audit trail of the shared key store.
    records, since = [], 0
    while True:
        page = server.get_json("/deidentification/audit?limit=1000&since=%d" % since)
        records += page["Records"]
        since = page["Next"]
        if page["Done"]:
            break
    cli = [r for r in records if r["Route"] == "cli" and r["Project"] == project]
    assert len(cli) == 1 and cli[0]["Status"] == "Success"
    assert cli[0]["Caller"]["Command"] == "orthanc-deidentify"
    assert cli[0]["Details"]["Instances"] == 3


@pytest.fixture(scope="module")
def keys():
    directory = tempfile.mkdtemp(prefix="deid-cli-keys-")
    key = os.path.join(directory, "custodian-key.pem")
    cert = os.path.join(directory, "custodian-cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-subj", "/CN=custodian", "-days", "2"], check=True, capture_output=True)
    yield key, cert
    shutil.rmtree(directory, ignore_errors=True)


def test_encryption_then_reidentify_restores_the_originals(work, keys):
    key, cert = keys
    config = write_config(work, {"Recipients": {"custodian": cert}, "EnableReidentification": True})
    inputs = os.path.join(work, "in")
    originals = {ds.SOPInstanceUID: ds for ds in make_study(inputs)}
    protected = os.path.join(work, "protected")
    restored = os.path.join(work, "restored")

    run_cli("deidentify", inputs, "-o", protected, "-c", config, "-r", '{"Recipients": ["custodian"]}',
            "--no-progress", check_code=0)
    for path in output_files(protected):
        assert "EncryptedAttributesSequence" in pydicom.dcmread(path)

    run_cli("reidentify", protected, "-o", restored, "-c", config, "-k", key, "--no-progress", check_code=0)
    files = output_files(restored)
    assert len(files) == 3
    for path in files:
        ds = pydicom.dcmread(path)
        original = originals[ds.SOPInstanceUID]
        assert os.path.relpath(path, restored) == os.path.join(original.StudyInstanceUID,
                                                               original.SeriesInstanceUID,
                                                               original.SOPInstanceUID + ".dcm")
        for keyword in ("PatientID", "PatientName", "StudyDate", "StudyInstanceUID", "SeriesInstanceUID"):
            assert str(ds.get(keyword)) == str(original.get(keyword)), keyword
        assert "EncryptedAttributesSequence" not in ds

    # Both runs are audited in the configured key store, with no key and no value.
    store = os.path.join(work, "storage", "deidentification-keys.db")
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT operation, route, caller, status, details FROM deid_audit").fetchall()
    assert [(r[0], r[1], r[3]) for r in rows] == [("deidentify", "cli", "Success"), ("reidentify", "reidentify", "Success")]
    assert all(json.loads(r[2])["Command"] == "orthanc-deidentify" for r in rows)
    with open(key) as f:
        pem_line = f.read().splitlines()[1]
    assert all(pem_line not in "".join(map(str, r)) and "Cli^Patient" not in "".join(map(str, r)) for r in rows)

    # Files without an Encrypted Attributes Sequence fail alone, with a reason.
    summary_path = os.path.join(work, "reidentify.json")
    run_cli("reidentify", inputs, "-o", os.path.join(work, "r1"), "-c", config, "-k", key,
            "--summary-json", summary_path, check_code=1)
    with open(summary_path) as f:
        summary = json.load(f)
    assert summary["Failed"] == 3 and summary["Succeeded"] == 0
    assert all("Encrypted Attributes" in reason for reason in summary["FailuresByReason"]), summary

    # Without the key, or with re-identification disabled: a usage error.
    run_cli("reidentify", protected, "-o", os.path.join(work, "r2"), "-c", config, "--no-progress", check_code=2)
    disabled = write_config(os.path.join(work, "in"), {"Recipients": {"custodian": cert}})
    result = run_cli("reidentify", protected, "-o", os.path.join(work, "r3"), "-c", disabled, "-k", key,
                     check_code=2)
    assert "EnableReidentification" in result.stderr


def test_usage_errors_exit_2(work):
    inputs = os.path.join(work, "in")
    make_study(inputs)
    out = os.path.join(work, "out")
    assert run_cli("deidentify", inputs, "-o", out, "--bogus").returncode == 2
    assert run_cli("deidentify", inputs).returncode == 2                       # no --output
    assert run_cli("anonymize", inputs, "-o", out).returncode == 2             # unknown command
    assert run_cli("deidentify", inputs, "-o", out, "-j", "zero").returncode == 2
    assert run_cli("deidentify", os.path.join(work, "missing"), "-o", out).returncode == 2
    result = run_cli("deidentify", inputs, "-o", out, "-r", '{"Profile": "nope"}')
    assert result.returncode == 2 and "Unknown de-identification profile" in result.stderr
    assert run_cli("deidentify", inputs, "-o", out, "-r", '{"Options": ["Nope"]}').returncode == 2
    assert run_cli("deidentify", inputs, "-o", out, "-r", '{"Unknown": 1}').returncode == 2
    assert run_cli("deidentify", inputs, "-o", out, "-r", "not json").returncode == 2
    assert run_cli("deidentify", inputs, "-o", out, "-c", os.path.join(work, "none.json")).returncode == 2
    assert not os.path.exists(out)   # nothing written on a usage error


def test_without_configuration_keys_are_in_memory(work):
    inputs = os.path.join(work, "in")
    make_study(inputs)
    out = os.path.join(work, "out")
    result = run_cli("deidentify", inputs, "-o", out, "--progress", check_code=0)
    assert "in memory" in result.stderr
    assert "[##############################] 3/3" in result.stderr   # --progress even when not a terminal
    files = output_files(out)
    assert len(files) == 3
    assert len({pydicom.dcmread(p).PatientID for p in files}) == 1   # consistent within the run
    # Another run has other keys: other UIDs. Default: no bar when stderr is not a terminal.
    again = os.path.join(work, "again")
    assert "[###" not in run_cli("deidentify", inputs, "-o", again, check_code=0).stderr
    assert not set(os.listdir(again)) & set(os.listdir(out))
    assert run_cli("--help", check_code=0).stdout.startswith("Usage:")


def test_jobs_1_and_2_give_the_same_output(work):
    inputs = os.path.join(work, "in")
    make_study(inputs)
    make_study(os.path.join(inputs, "second"), patient_id="PAT-CLI-2")
    config = write_config(work)
    outputs = []
    for jobs in ("1", "2"):
        out = os.path.join(work, "out" + jobs)
        run_cli("deidentify", inputs, "-o", out, "-c", config, "-j", jobs, "--no-progress", check_code=0)
        outputs.append({os.path.relpath(p, out): open(p, "rb").read() for p in output_files(out)})
    assert len(outputs[0]) == 6
    assert outputs[0] == outputs[1]


def test_output_inside_the_input_is_not_read_again(work):
    inputs = os.path.join(work, "in")
    make_study(inputs)
    out = os.path.join(inputs, "deidentified")
    config = write_config(work)
    for _ in range(2):
        summary_path = os.path.join(work, "summary.json")
        run_cli("deidentify", inputs, "-o", out, "-c", config, "--summary-json", summary_path, check_code=0)
        with open(summary_path) as f:
            assert json.load(f)["Succeeded"] == 3
    assert len(output_files(out)) == 3   # the same keys: the same files again
