"""The timed operations. Each case is a callable returning the elapsed
seconds of one run and the CPU seconds it cost (Orthanc's user + system time
for the REST cases, the child process's for the file commands: less
sensitive than wall-clock time to other load on the machine); it checks its own result (a wrong count raises: the
benchmark then stops with a non-zero exit code) and removes its output, so
that storage does not grow between repeats.
"""

import concurrent.futures
import json
import os
import resource
import shutil
import subprocess
import threading
import time

import pydicom
import requests

import study_generator


IDENTIFYING_NAME = study_generator.PATIENT_NAME.split("^")[0]


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def count_files(folder):
    return sum(len(files) for _, _, files in os.walk(folder))


def first_patient_name(folder):
    for directory, _, files in os.walk(folder):
        for name in files:
            return str(pydicom.dcmread(os.path.join(directory, name), stop_before_pixels=True).get("PatientName", ""))
    return ""


class RestIngest:
    """POST /instances of every file of the study, by `clients` parallel HTTP clients (files read beforehand)."""

    def __init__(self, server, paths, clients):
        self.server = server
        self.clients = clients
        self.blobs = []
        for path in paths:
            with open(path, "rb") as f:
                self.blobs.append(f.read())
        self.study = None
        self._local = threading.local()

    def _upload(self, blob):
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return self.server.request("POST", "/instances", session=session, data=blob,
                                   headers={"Content-Type": "application/dicom"}).json()

    def delete_study(self):
        if self.study is not None:
            self.server.delete("/studies/" + self.study)

    def __call__(self):
        self.delete_study()
        cpu = self.server.cpu_seconds()
        start = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(self.clients) as pool:
            answers = list(pool.map(self._upload, self.blobs))
        elapsed = time.perf_counter() - start
        cpu = self.server.cpu_seconds() - cpu
        studies = {answer["ParentStudy"] for answer in answers}
        if len(studies) != 1 or any(answer.get("Status") != "Success" for answer in answers):
            raise RuntimeError("REST ingest: %d studies, statuses %s" % (
                len(studies), sorted({answer.get("Status") for answer in answers})))
        self.study = studies.pop()
        return elapsed, cpu


class StudyRoute:
    """POST /studies/{id}/<route> with "Synchronous": true (the request waits for Orthanc's job)."""

    def __init__(self, server, ingest, route, body, count):
        self.server, self.ingest, self.route, self.body, self.count = server, ingest, route, body, count

    def __call__(self):
        path = "/studies/%s/%s" % (self.ingest.study, self.route)
        body = dict(self.body, Synchronous=True)
        cpu = self.server.cpu_seconds()
        start = time.perf_counter()
        answer = self.server.post_json(path, body)
        elapsed = time.perf_counter() - start
        cpu = self.server.cpu_seconds() - cpu
        failed = answer.get("FailedInstancesCount", 0)
        produced = len(self.server.get_json("/studies/%s/instances" % answer["ID"]))
        name = self.server.get_json("/studies/%s" % answer["ID"])["PatientMainDicomTags"].get("PatientName", "")
        self.server.delete("/studies/" + answer["ID"])
        if failed or produced != self.count:
            raise RuntimeError("%s %s produced %d instances instead of %d (%s failed)"
                               % (path, json.dumps(self.body), produced, self.count, failed))
        if IDENTIFYING_NAME in name:
            raise RuntimeError("%s %s kept the patient name" % (path, json.dumps(self.body)))
        return elapsed, cpu


class FileCommand:
    """An external command from an input folder to an output folder, emptied before each run."""

    def __init__(self, name, command, out_dir, count, summary=None, deidentifies=True):
        self.name, self.command, self.out_dir, self.count, self.summary = name, command, out_dir, count, summary
        self.deidentifies = deidentifies
        self.last_summary = None

    def __call__(self):
        shutil.rmtree(self.out_dir, ignore_errors=True)
        cpu = children_cpu_seconds()
        start = time.perf_counter()
        result = subprocess.run(self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        elapsed = time.perf_counter() - start
        cpu = children_cpu_seconds() - cpu
        if result.returncode != 0:
            raise RuntimeError("%s exited with %d: %s\n%s" % (self.name, result.returncode, " ".join(self.command),
                                                                result.stdout.decode("utf-8", "replace")[-3000:]))
        written = count_files(self.out_dir)
        if written != self.count:
            raise RuntimeError("%s wrote %d files instead of %d" % (self.name, written, self.count))
        if self.deidentifies and IDENTIFYING_NAME in first_patient_name(self.out_dir):
            raise RuntimeError("%s kept the patient name" % self.name)
        if self.summary and os.path.exists(self.summary):
            with open(self.summary) as f:
                try:
                    self.last_summary = json.load(f)
                except ValueError:
                    self.last_summary = None
        shutil.rmtree(self.out_dir, ignore_errors=True)
        return elapsed, cpu


def plain_copy(in_dir, out_dir, count):
    return FileCommand("cp -r", ["cp", "-r", in_dir, out_dir], out_dir, count, deidentifies=False)


def gdcmanon(certificate, in_dir, out_dir, count):
    # The same certificate and cipher (AES-256) as the plugin's recipient; gdcmanon is single-threaded.
    return FileCommand("gdcmanon -e", ["gdcmanon", "-e", "--certificate", certificate, "--aes256",
                                       "--continue", "-i", in_dir, "-o", out_dir], out_dir, count)


def cli(binary, config, body, in_dir, out_dir, count, summary, jobs=None):
    command = [binary, "deidentify", "-c", config, "--no-progress", "--summary-json", summary]
    if body:
        command += ["-r", json.dumps(body)]
    if jobs:
        command += ["-j", str(jobs)]
    return FileCommand("orthanc-deidentify", command + [in_dir, "-o", out_dir], out_dir, count, summary)
