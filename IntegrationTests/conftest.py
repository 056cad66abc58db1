"""Fixtures that run a REAL Orthanc (/usr/sbin/Orthanc) with our plugin.

Usage from a test module:

    def test_something(orthanc):            # the shared instance (session)
        orthanc.get("/plugins")

    def test_two_nodes(start_orthanc):      # fresh instances, stopped at the end
        a = start_orthanc({"Deidentification": {"KeyStore": {...}}})
        b = start_orthanc({"Name": "B"}, name="b")

start_orthanc(extra_config=None, name=None, plugin=True, expect_failure=False)
deep-merges extra_config into the base configuration below, writes it to a
temporary directory (also holding StorageDirectory/IndexDirectory), starts
Orthanc on free loopback HTTP/DICOM ports and waits for GET /system.
With expect_failure=True it waits for the process to exit instead and returns
the server (server.returncode, server.read_log()).

Environment: DEID_PLUGIN (default: build/libOrthancDeidentification.so under
the repository), DEID_ORTHANC (default /usr/sbin/Orthanc), DEID_SANITIZER_RUNTIME
(the ASan runtime to LD_PRELOAD into Orthanc for a plugin built with
-DDEID_SANITIZE=ON; then any sanitizer report in an Orthanc log fails the test
that stops that Orthanc).
"""

import copy
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLUGIN = os.environ.get("DEID_PLUGIN", os.path.join(ROOT, "build", "libOrthancDeidentification.so"))
ORTHANC = os.environ.get("DEID_ORTHANC", "/usr/sbin/Orthanc")
PYDICOM_TEST_FILES = "/usr/lib/python3/dist-packages/pydicom/data/test_files"
SANITIZER_RUNTIME = os.environ.get("DEID_SANITIZER_RUNTIME")
SANITIZER_REPORTS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def orthanc_environment():
    """Orthanc is not instrumented: the ASan runtime of the plugin is preloaded."""
    env = dict(os.environ)
    if SANITIZER_RUNTIME:
        env["LD_PRELOAD"] = SANITIZER_RUNTIME
        env.setdefault("ASAN_OPTIONS", "detect_leaks=0:halt_on_error=1")
        env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
    return env

# The 10 option columns of PS3.15 Table E.1-1.
TABLE_OPTIONS = [
    "RetainSafePrivate", "RetainUIDs", "RetainDeviceIdentity", "RetainInstitutionIdentity",
    "RetainPatientCharacteristics", "RetainLongitudinalFullDates", "RetainLongitudinalModifiedDates",
    "CleanDescriptors", "CleanStructuredContent", "CleanGraphics",
]


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def deep_merge(base, extra):
    result = copy.deepcopy(base)
    for key, value in (extra or {}).items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def base_config(directory, http_port, dicom_port, plugin=True):
    config = {
        "Name": "DeidTest",
        "StorageDirectory": os.path.join(directory, "storage"),
        "IndexDirectory": os.path.join(directory, "storage"),
        "HttpPort": http_port,
        "DicomPort": dicom_port,
        "DicomAet": "DEIDTEST",
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "HttpServerEnabled": True,
        "DicomServerEnabled": True,
        "Plugins": [PLUGIN] if plugin else [],
        # No in-memory storage cache: tests corrupt files on disk on purpose.
        "MaximumStorageCacheSize": 0,
        "JobsHistorySize": 1000,
        "ConcurrentJobs": 2,
        "StableAge": 3600,
        "SaveJobs": False,
        "UserMetadata": {"DeidentifiedFrom": 4601, "DeidentificationJob": 4602},
        "Deidentification": {
            # The tests name every option, project, recipient and cipher: a
            # trusted set-up. test_caller_policy.py tests the secure default
            # ("CallerPolicy": None).
            "CallerPolicy": "*",
            "DefaultProfile": "basic",
            "Profiles": {
                "basic": {"Options": []},
                "research": {"Options": ["RetainLongitudinalModifiedDates", "RetainPatientCharacteristics",
                                         "CleanDescriptors"]},
                # The Basic Profile that accepts burned-in text (header checks over
                # ultrasound and secondary captures, which "basic" refuses).
                "headers-only": {"Options": [], "AcceptBurnedInAnnotationRisk": True},
            },
        },
    }
    if SANITIZER_RUNTIME:
        # With the ASan runtime preloaded, Orthanc 1.10.1 deadlocks in glibc
        # while creating its "en_US.UTF-8" locale, and ASan's mallopt() fails
        # Orthanc's M_ARENA_MAX call: use the C locale, skip mallopt.
        config.update({"Locale": "C", "MallocArenaMax": 0})
    return config


class OrthancServer:
    def __init__(self, config, directory, name):
        self.config = config
        self.directory = directory
        self.name = name
        self.http_port = config["HttpPort"]
        self.dicom_port = config["DicomPort"]
        self.url = "http://127.0.0.1:%d" % self.http_port
        self.config_path = os.path.join(directory, "orthanc.json")
        self.log_path = os.path.join(directory, "orthanc.log")
        self.process = None
        self.returncode = None
        self.session = requests.Session()

    @property
    def storage_directory(self):
        return self.config["StorageDirectory"]

    def start(self, expect_failure=False, timeout=60):
        with open(self.config_path, "w") as f:
            json.dump(self.config, f, indent=2)
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen([ORTHANC, self.config_path], cwd=self.directory,
                                        stdout=log, stderr=subprocess.STDOUT, env=orthanc_environment())
        log.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            code = self.process.poll()
            if code is not None:
                self.returncode = code
                if expect_failure:
                    return self
                raise RuntimeError("Orthanc %s exited with %s:\n%s" % (self.name, code, self.read_log()[-4000:]))
            if not expect_failure:
                try:
                    if self.session.get(self.url + "/system", timeout=2).status_code == 200:
                        return self
                except requests.RequestException:
                    pass
            time.sleep(0.2)
        if expect_failure:
            self.stop()
            raise RuntimeError("Orthanc %s did not exit although a failure was expected" % self.name)
        self.stop()
        raise RuntimeError("Orthanc %s did not answer on /system:\n%s" % (self.name, self.read_log()[-4000:]))

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None:
            self.returncode = self.process.returncode
        self.session.close()
        if SANITIZER_RUNTIME:
            log = self.read_log()
            reports = [r for r in SANITIZER_REPORTS if r in log]
            if reports:
                start = min(log.find(r) for r in reports)
                raise AssertionError("Sanitizer report in the log of Orthanc %s:\n%s"
                                     % (self.name, log[max(0, start - 500):start + 6000]))

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().replace(b"\0", b"").decode("utf-8", "replace")
        except OSError:
            return ""

    # --- HTTP helpers (raise on HTTP errors unless check=False) ---

    def request(self, method, path, check=True, **kwargs):
        kwargs.setdefault("timeout", 600)
        response = self.session.request(method, self.url + path, **kwargs)
        if check and response.status_code >= 400:
            raise AssertionError("%s %s -> %d: %s" % (method, path, response.status_code, response.text[:2000]))
        return response

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def get_json(self, path, **kwargs):
        return self.get(path, **kwargs).json()

    def post(self, path, body=None, **kwargs):
        if isinstance(body, (dict, list)):
            kwargs["data"] = json.dumps(body)
        elif body is not None:
            kwargs["data"] = body
        return self.request("POST", path, **kwargs)

    def post_json(self, path, body=None, **kwargs):
        return self.post(path, body, **kwargs).json()

    def put(self, path, body=None, **kwargs):
        return self.request("PUT", path, data=body, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def upload(self, data):
        """POSTs a DICOM file (bytes or path) to /instances; returns Orthanc's answer or None if refused."""
        if isinstance(data, str):
            with open(data, "rb") as f:
                data = f.read()
        response = self.post("/instances", data, check=False)
        if response.status_code != 200:
            return None
        return response.json()

    def wait_for_job(self, job_id, timeout=600):
        deadline = time.time() + timeout
        while time.time() < deadline:
            job = self.get_json("/jobs/" + job_id)
            if job["State"] in ("Success", "Failure"):
                return job
            time.sleep(0.1)
        raise AssertionError("Job %s did not finish in %ds" % (job_id, timeout))

    def attachment_path(self, instance_id):
        """The file of the DICOM attachment of an instance in the storage directory."""
        uuid = self.get_json("/instances/%s/attachments/dicom/info" % instance_id)["Uuid"]
        return os.path.join(self.storage_directory, uuid[0:2], uuid[2:4], uuid)


class OrthancFactory:
    def __init__(self, base_directory):
        self.base_directory = base_directory
        self.servers = []

    def __call__(self, extra_config=None, name=None, plugin=True, expect_failure=False):
        name = name or "orthanc%d" % len(self.servers)
        directory = tempfile.mkdtemp(prefix=name + "-", dir=self.base_directory)
        for attempt in range(5):
            config = deep_merge(base_config(directory, free_port(), free_port(), plugin), extra_config)
            server = OrthancServer(config, directory, name)
            self.servers.append(server)
            try:
                return server.start(expect_failure=expect_failure)
            except RuntimeError:
                # A port taken between free_port() and Orthanc's bind: retry.
                if "in use" in server.read_log().lower() and attempt < 4:
                    continue
                raise

    def stop_all(self):
        errors = []
        for server in self.servers:
            try:
                server.stop()
            except AssertionError as e:   # a sanitizer report: stop the others first
                errors.append(str(e))
        if errors:
            raise AssertionError("\n".join(errors))


@pytest.fixture(scope="session")
def orthanc_workdir():
    directory = tempfile.mkdtemp(prefix="deid-it-")
    yield directory
    if os.environ.get("DEID_KEEP_TEST_DIRS") != "1":
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def start_orthanc(orthanc_workdir):
    """A function that starts additional Orthanc processes (stopped at the end of the session)."""
    if not os.path.exists(PLUGIN):
        pytest.fail("The plugin is not built: %s (set DEID_PLUGIN)" % PLUGIN)
    factory = OrthancFactory(orthanc_workdir)
    yield factory
    factory.stop_all()


@pytest.fixture(scope="session")
def orthanc(start_orthanc):
    """One Orthanc with the plugin, shared by the whole session."""
    return start_orthanc(name="shared")
