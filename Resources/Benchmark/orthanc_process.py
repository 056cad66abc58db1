"""A real Orthanc (/usr/sbin/Orthanc) with the plugin, for the benchmark.

Started as IntegrationTests/conftest.py starts it (free loopback ports, a
temporary storage and index directory, wait for GET /system), without
importing pytest. Orthanc's own defaults apply otherwise, unless the caller
overrides them (the memory measurements turn the storage cache off).
"""

import json
import os
import socket
import subprocess
import time

import requests

ORTHANC = os.environ.get("DEID_ORTHANC", "/usr/sbin/Orthanc")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def deep_merge(base, extra):
    result = dict(base)
    for key, value in (extra or {}).items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = value
    return result


class OrthancProcess:
    def __init__(self, plugin, directory, extra_config=None):
        os.makedirs(directory, exist_ok=True)
        self.directory = directory
        storage = os.path.join(directory, "storage")
        self.config = deep_merge({
            "Name": "DeidBenchmark",
            "StorageDirectory": storage,
            "IndexDirectory": storage,
            "HttpPort": free_port(),
            "DicomPort": free_port(),
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "Plugins": [plugin],
            "UserMetadata": {"DeidentifiedFrom": 4601, "DeidentificationJob": 4602},
        }, extra_config)
        self.url = "http://127.0.0.1:%d" % self.config["HttpPort"]
        self.config_path = os.path.join(directory, "orthanc.json")
        self.log_path = os.path.join(directory, "orthanc.log")
        self.process = None
        self.session = requests.Session()

    @property
    def pid(self):
        return self.process.pid

    def cpu_seconds(self):
        """User + system CPU time of Orthanc (all its threads) so far, from /proc/<pid>/stat."""
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))

    def start(self, timeout=60):
        with open(self.config_path, "w") as f:
            json.dump(self.config, f, indent=2)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen([ORTHANC, self.config_path], cwd=self.directory,
                                            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("Orthanc exited with %s:\n%s" % (self.process.returncode, self.read_log()[-4000:]))
            try:
                if self.session.get(self.url + "/system", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("Orthanc did not answer on /system:\n%s" % self.read_log()[-4000:])

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.session.close()

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # --- HTTP (raises on HTTP errors) ---

    def request(self, method, path, session=None, **kwargs):
        kwargs.setdefault("timeout", 3600)
        response = (session or self.session).request(method, self.url + path, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError("%s %s -> %d: %s" % (method, path, response.status_code, response.text[:1000]))
        return response

    def get_json(self, path):
        return self.request("GET", path).json()

    def post_json(self, path, body):
        return self.request("POST", path, data=json.dumps(body)).json()

    def delete(self, path):
        self.request("DELETE", path)

    def wait_for_job(self, job_id, timeout=7200):
        deadline = time.time() + timeout
        while time.time() < deadline:
            job = self.get_json("/jobs/" + job_id)
            if job["State"] in ("Success", "Failure"):
                return job
            time.sleep(0.1)
        raise RuntimeError("Job %s did not finish in %d s" % (job_id, timeout))
