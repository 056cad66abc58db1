"""Automatic rules (issue 8, item 3) against real Orthanc processes: rules
chosen by the calling AET of DCMTK's storescu, StableStudy, a restart with
pending work, DeleteOriginal only after success, failures listed after
MaxAttempts, and the plugin's own output never triggering a rule."""

import json
import os
import re
import socket
import subprocess
import time

import pydicom
import pytest
import requests

from conftest import PLUGIN
from automatic_support import (CT, MR, StoreScp, automatic, copies_of, instance_id, make_instance, storescu,
                               wait_until_idle, write)


# Rules per destination: automatic rules say WHAT happens, these say WITH
# WHICH PROFILE (the kept copy is destination kind "Store").
DESTINATION_RULES = {"List": [
    {"Name": "copies", "Destination": {"Kind": "Store"}, "Profile": "basic"},
    {"Name": "trial", "Destination": {"Kind": "Modality", "Name": "TRIAL"}, "Profile": "research"},
    {"Name": "nowhere", "Destination": {"Kind": "Modality", "Name": "NOWHERE"}, "Profile": "basic"},
]}


def automatic_section(rules, **settings):
    section = {"Enable": True, "Rules": rules, "RetryDelay": 0, "PollInterval": 1}
    section.update(settings)
    return {"Deidentification": {"Automatic": section, "Rules": DESTINATION_RULES}}


def test_calling_aets_trigger_different_rules_and_own_output_does_not(start_orthanc, tmp_path):
    trial = StoreScp(str(tmp_path / "trial")).start()
    config = automatic_section([
        {"Name": "ct-copy", "Origin": {"Kind": "DicomProtocol", "RemoteAet": "CT*"}, "Store": True},
        {"Name": "mr-to-trial", "Origin": {"RemoteAet": "MRSCANNER"}, "Match": {"Modality": "MR"},
         "Send": [{"Modality": "TRIAL"}], "DeleteOriginal": True},
    ])
    config["DicomModalities"] = {"TRIAL": ["TRIAL", "127.0.0.1", trial.port]}
    orthanc = start_orthanc(config, name="aets")
    try:
        ct, ct_ds = make_instance(CT, "AUTO-CT-1", "Doe^Ct")
        mr, mr_ds = make_instance(MR, "AUTO-MR-1", "Doe^Mr")
        other, other_ds = make_instance(CT, "AUTO-CT-2", "Doe^Other")
        storescu(orthanc, "CTSCANNER", write(str(tmp_path), "ct.dcm", ct))
        storescu(orthanc, "MRSCANNER", write(str(tmp_path), "mr.dcm", mr))
        storescu(orthanc, "WORKSTATION", write(str(tmp_path), "other.dcm", other))   # no rule
        ct_id = instance_id(orthanc, ct_ds.SOPInstanceUID)
        other_id = instance_id(orthanc, other_ds.SOPInstanceUID)

        state = wait_until_idle(orthanc, minimum_done=3)
        time.sleep(2.5)   # two more polls: the copies must not start anything
        state = wait_until_idle(orthanc)
        assert state["Counts"] == {"Pending": 0, "Running": 0, "Done": 3, "Failed": 0}, state

        # CT*: the original stays, one de-identified copy.
        ct_copies = copies_of(orthanc, ct_id)
        assert len(ct_copies) == 1
        tags = orthanc.get_json("/instances/%s/simplified-tags" % ct_copies[0])
        assert tags["PatientName"] != "Doe^Ct" and tags["PatientID"] != "AUTO-CT-1"
        assert tags["PatientIdentityRemoved"] == "YES"
        # MRSCANNER: sent de-identified to the trial's storescp, then the original deleted.
        received = trial.files()
        assert len(received) == 1, received
        sent = pydicom.dcmread(received[0])
        assert sent.PatientIdentityRemoved == "YES"
        assert str(sent.PatientName) != "Doe^Mr" and sent.PatientID != "AUTO-MR-1"
        assert sent.SOPInstanceUID != mr_ds.SOPInstanceUID
        assert instance_id(orthanc, mr_ds.SOPInstanceUID) is None
        instances = orthanc.get_json("/instances")
        assert len(instances) == 3, instances   # CT original + copy, untouched other (no MR copy kept)
        assert other_id in instances and copies_of(orthanc, other_id) == []
        assert "Doe^Mr" not in json.dumps(automatic(orthanc))
        # Each action got the profile of its destination's rule.
        records = orthanc.get_json("/deidentification/audit?limit=1000")["Records"]
        profiles = {r["Details"]["Destination"]: r["Profile"] for r in records if r["Route"].startswith("automatic")}
        assert profiles == {"Store": "basic", 'Modality "TRIAL"': "research"}, profiles
        log = orthanc.read_log()
        for value in ("Doe^Ct", "Doe^Mr", "AUTO-CT-1", "AUTO-MR-1", ct_ds.SOPInstanceUID, mr_ds.SOPInstanceUID):
            assert value not in log
    finally:
        orthanc.stop()
        trial.stop()


def test_stable_study_rule_runs_once_the_study_is_stable(start_orthanc):
    orthanc = start_orthanc(dict(automatic_section([{"Name": "stable", "When": "StableStudy", "Store": True}]),
                                 StableAge=2), name="stable")
    try:
        study_uid = "1.2.826.0.1.3680043.8.498.1"
        first, ds1 = make_instance(CT, "AUTO-ST-1", "Doe^Stable", study_uid=study_uid)
        second, ds2 = make_instance(CT, "AUTO-ST-1", "Doe^Stable", study_uid=study_uid)
        started = time.time()
        a = orthanc.upload(first)["ID"]
        b = orthanc.upload(second)["ID"]
        time.sleep(1.0)
        assert copies_of(orthanc, a) == [] and copies_of(orthanc, b) == []   # not stable yet
        pending = automatic(orthanc)["Pending"]
        assert [p["Level"] for p in pending] == ["Study"], pending
        wait_until_idle(orthanc, timeout=20, minimum_done=1)
        assert time.time() - started >= 2
        assert len(copies_of(orthanc, a)) == 1 and len(copies_of(orthanc, b)) == 1
    finally:
        orthanc.stop()


def test_restart_with_pending_work_loses_and_duplicates_nothing(start_orthanc):
    orthanc = start_orthanc(dict(automatic_section([{"Name": "after-restart", "When": "StableStudy",
                                                     "Store": True}]), StableAge=4), name="restart")
    try:
        study_uid = "1.2.826.0.1.3680043.8.498.2"
        ids = [orthanc.upload(make_instance(CT, "AUTO-RS-1", "Doe^Restart", study_uid=study_uid)[0])["ID"]
               for _ in range(3)]
        deadline = time.time() + 5
        while automatic(orthanc)["Counts"]["Pending"] == 0 and time.time() < deadline:
            time.sleep(0.1)
        assert automatic(orthanc)["Counts"]["Pending"] == 1
        orthanc.stop()     # Orthanc forgets the unstable study; the key store does not

        orthanc.start()
        wait_until_idle(orthanc, timeout=30, minimum_done=1)
        for i in ids:
            assert len(copies_of(orthanc, i)) == 1
        records = orthanc.get_json("/deidentification/audit?limit=1000")["Records"]
        done = [r for r in records if r["Route"].startswith("automatic") and r["Status"] == "Success"]
        assert len(done) == 1, records     # the study, once
        assert done[0]["Details"]["Instances"] == 3
    finally:
        orthanc.stop()


def test_restart_while_the_destination_is_down_sends_each_instance_once(start_orthanc, tmp_path):
    trial = StoreScp(str(tmp_path / "trial"))          # not started yet: the destination is down
    config = automatic_section([{"Name": "to-trial", "Send": [{"Modality": "TRIAL"}]}],
                               MaxAttempts=100, RetryDelay=1)
    config["DicomModalities"] = {"TRIAL": ["TRIAL", "127.0.0.1", trial.port]}
    orthanc = start_orthanc(config, name="restart-down")
    try:
        for i in range(3):
            orthanc.upload(make_instance(CT, "AUTO-DOWN-%d" % i, "Doe^Down")[0])
        deadline = time.time() + 20
        while time.time() < deadline:
            pending = automatic(orthanc)["Pending"]
            if len(pending) == 3 and all(p["Attempts"] >= 1 for p in pending):
                break
            time.sleep(0.2)
        assert len(pending) == 3 and all(p["Error"] for p in pending), pending
        orthanc.stop()

        trial.start()
        orthanc.start()
        wait_until_idle(orthanc, timeout=30, minimum_done=3)
        time.sleep(1.5)
        assert len(trial.files()) == 3, trial.files()
        assert automatic(orthanc)["Counts"] == {"Pending": 0, "Running": 0, "Done": 3, "Failed": 0}
    finally:
        orthanc.stop()
        trial.stop()


def test_failing_destination_keeps_the_original_and_is_listed(start_orthanc):
    orthanc = start_orthanc(dict(automatic_section(
        [{"Name": "to-nowhere", "Send": [{"Modality": "NOWHERE"}], "DeleteOriginal": True}], MaxAttempts=2),
        DicomModalities={"NOWHERE": ["NOWHERE", "127.0.0.1", 1]}), name="failing")
    try:
        data, ds = make_instance(CT, "AUTO-FAIL-1", "Doe^Failing")
        original = orthanc.upload(data)["ID"]
        deadline = time.time() + 30
        while automatic(orthanc)["Counts"]["Failed"] < 2 and time.time() < deadline:
            time.sleep(0.2)
        state = automatic(orthanc)
        assert state["Counts"]["Failed"] == 2, state
        failed = {f["Action"]: f for f in state["Failed"]}
        assert failed["Modality:NOWHERE"]["Resource"] == original
        assert failed["Modality:NOWHERE"]["Attempts"] == 2
        assert failed["Modality:NOWHERE"]["Error"]
        assert "original kept" in failed["Delete"]["Error"]
        assert orthanc.get("/instances/" + original, check=False).status_code == 200
        body = json.dumps(state)
        assert "Doe^Failing" not in body and "AUTO-FAIL-1" not in body
        assert "Doe^Failing" not in orthanc.read_log() and "AUTO-FAIL-1" not in orthanc.read_log()

        retried = orthanc.post_json("/deidentification/automatic/retry")
        assert retried["Retried"] == 2
    finally:
        orthanc.stop()


def test_uncovered_destination_fails_at_once_and_keeps_the_original(start_orthanc):
    config = automatic_section([{"Name": "uncovered", "Send": [{"Peer": "ELSEWHERE"}], "DeleteOriginal": True}])
    config["OrthancPeers"] = {"ELSEWHERE": ["http://127.0.0.1:1/"]}
    orthanc = start_orthanc(config, name="uncovered")
    try:
        original = orthanc.upload(make_instance(CT, "AUTO-UNC-1", "Doe^Uncovered")[0])["ID"]
        deadline = time.time() + 20
        while automatic(orthanc)["Counts"]["Failed"] < 2 and time.time() < deadline:
            time.sleep(0.2)
        failed = {f["Action"]: f for f in automatic(orthanc)["Failed"]}
        assert failed["Peer:ELSEWHERE"]["Attempts"] == 1     # a refusal is not retried
        assert "original kept" in failed["Delete"]["Error"]
        assert orthanc.get("/instances/" + original, check=False).status_code == 200
    finally:
        orthanc.stop()


def test_bad_automatic_configuration_is_refused(start_orthanc):
    server = start_orthanc(automatic_section([{"Name": "x", "Match": {"NoSuchKeyword": "1"}, "Store": True}]),
                           expect_failure=True, name="badauto")
    assert server.returncode != 0
    assert "NoSuchKeyword" in server.read_log()


def postgres_conninfo():
    conninfo = os.environ.get("DEID_TEST_POSTGRES", "")
    if not conninfo:
        pytest.skip("DEID_TEST_POSTGRES is not set (see Resources/StartTestPostgres.sh)")
    if not os.path.exists(POSTGRESQL_INDEX):
        pytest.skip("orthanc-postgresql is not installed (Resources/Install.sh)")
    return conninfo


POSTGRESQL_INDEX = "/usr/share/orthanc/plugins/libOrthancPostgreSQLIndex.so"
POSTGRESQL_STORAGE = "/usr/share/orthanc/plugins/libOrthancPostgreSQLStorage.so"


def fresh_database(conninfo):
    """A new database on the test server; returns its conninfo and the parsed settings."""
    settings = dict(part.split("=", 1) for part in conninfo.split())
    name = "deid_cluster_%d_%d" % (os.getpid(), int(time.time() * 1000) % 10 ** 9)
    admin = " ".join("%s=%s" % (k, v) for k, v in settings.items() if k != "dbname") + " dbname=postgres"
    subprocess.run(["psql", admin, "-q", "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE " + name],
                   check=True, capture_output=True)
    settings["dbname"] = name
    return " ".join("%s=%s" % (k, v) for k, v in settings.items()), settings


def test_two_nodes_on_one_postgresql_index_handle_each_instance_once(start_orthanc, tmp_path):
    conninfo, db = fresh_database(postgres_conninfo())
    trial = StoreScp(str(tmp_path / "trial")).start()
    config = automatic_section([{"Name": "cluster", "Send": [{"Modality": "TRIAL"}]}])
    config["DicomModalities"] = {"TRIAL": ["TRIAL", "127.0.0.1", trial.port]}
    config["Plugins"] = [PLUGIN, POSTGRESQL_INDEX, POSTGRESQL_STORAGE]
    config["PostgreSQL"] = {"EnableIndex": True, "EnableStorage": True, "Lock": False,
                            "Host": db["host"], "Port": int(db["port"]), "Database": db["dbname"],
                            "Username": db["user"], "Password": "", "EnableSsl": False}
    config["Deidentification"]["KeyStore"] = {"Type": "PostgreSQL", "ConnectionString": conninfo}
    a = start_orthanc(config, name="cluster-a")
    b = start_orthanc(config, name="cluster-b")
    try:
        uids = set()
        for i in range(4):
            for node in (a, b):
                data, ds = make_instance(CT, "AUTO-CL-%d" % i, "Doe^Cluster")
                assert node.upload(data) is not None
                uids.add(ds.SOPInstanceUID)
        assert len(a.get_json("/instances")) == 8 and len(b.get_json("/instances")) == 8   # one index

        deadline = time.time() + 60
        while len(trial.files()) < 8 and time.time() < deadline:
            time.sleep(0.2)
        wait_until_idle(a, minimum_done=8)
        wait_until_idle(b, minimum_done=8)
        time.sleep(2.5)    # both nodes poll again: nothing more may arrive
        received = trial.files()
        assert len(received) == 8, received
        sent = [pydicom.dcmread(f) for f in received]
        assert len({ds.SOPInstanceUID for ds in sent}) == 8
        assert not uids & {ds.SOPInstanceUID for ds in sent}
        state = automatic(a)
        assert state["Counts"]["Done"] == 8 and state["Counts"]["Failed"] == 0, state
    finally:
        a.stop()
        b.stop()
        trial.stop()


def test_readme_examples_start_as_written(start_orthanc):
    """The configuration examples of the README's "Automatic rules and ingestion" section."""
    with open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")) as f:
        text = f.read()
    section = text[text.index("## Automatic rules and ingestion"):]
    section = section[:section.index("\n## ")]
    snippets = re.findall(r"```json\n(.*?)```", section, flags=re.S)
    assert len(snippets) == 2
    automatic_example = start_orthanc(json.loads("{" + snippets[0] + "}"), name="readme-automatic")
    try:
        assert automatic_example.get_json("/deidentification/automatic")["Rules"] == ["ct-to-trial", "mr-copy"]
    finally:
        automatic_example.stop()
    ingestion_example = start_orthanc(json.loads("{" + snippets[1] + "}"), name="readme-ingestion")
    try:
        assert "De-identification at ingestion is enabled" in ingestion_example.read_log()
        refused = ingestion_example.post("/instances", make_instance(MR, "README-1", "Doe^Readme")[0]).json()
        assert refused["Status"] == "FilteredOut"     # an upload: no rule for origin RestApi
    finally:
        ingestion_example.stop()


def test_killed_node_leaves_a_claim_that_expires_and_runs_once(start_orthanc):
    # A peer that accepts connections and never answers: the send hangs.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    peer = start_orthanc(name="kill-peer", plugin=False)
    config = automatic_section([{"Name": "to-peer", "Send": [{"Peer": "ARCHIVE"}]}], ClaimTimeout=10)
    config["Deidentification"]["Rules"] = {"List": [{"Name": "archive", "Destination": {"Kind": "Peer"},
                                                     "Profile": "basic"}]}
    config["OrthancPeers"] = {"ARCHIVE": ["http://127.0.0.1:%d/" % silent.getsockname()[1]]}
    orthanc = start_orthanc(config, name="killed")
    try:
        orthanc.upload(make_instance(CT, "AUTO-KILL-1", "Doe^Killed")[0])
        deadline = time.time() + 20
        while automatic(orthanc)["Counts"]["Running"] != 1 and time.time() < deadline:
            time.sleep(0.1)
        assert automatic(orthanc)["Counts"]["Running"] == 1
        orthanc.process.kill()          # kill -9 in the middle of the send
        orthanc.process.wait()

        orthanc.config["OrthancPeers"] = {"ARCHIVE": [peer.url + "/"]}
        orthanc.session = requests.Session()
        orthanc.start()
        state = wait_until_idle(orthanc, timeout=40, minimum_done=1)
        assert state["Counts"]["Done"] == 1 and state["Counts"]["Failed"] == 0, state
        assert len(peer.get_json("/instances")) == 1
    finally:
        orthanc.stop()
        peer.stop()
        silent.close()
