"""Starts a real Orthanc with the plugin for the key store tests: a given
"Deidentification" section, a storage directory that can be reused (restart),
free loopback ports."""

import json
import os
import socket
import subprocess
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLUGIN = os.environ.get("DEID_PLUGIN", os.path.join(ROOT, "build", "libOrthancDeidentification.so"))
ORTHANC = os.environ.get("DEID_ORTHANC", "/usr/sbin/Orthanc")
PYDICOM_CT = "/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OrthancProcess:
    """with OrthancProcess(directory, deidentification_section) as orthanc: orthanc.url"""

    def __init__(self, directory, deidentification, orthanc_config=None):
        self.directory = str(directory)
        self.deidentification = deidentification
        self.orthanc_config = orthanc_config or {}
        self.process = None
        self.url = None

    def __enter__(self):
        os.makedirs(self.directory, exist_ok=True)
        storage = os.path.join(self.directory, "storage")
        http_port = free_port()
        config = {
            "Name": "DeidKeyStoreTest",
            "StorageDirectory": storage,
            "IndexDirectory": storage,
            "HttpPort": http_port,
            "DicomPort": free_port(),
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "Plugins": [PLUGIN],
            "Deidentification": self.deidentification,
        }
        config.update(self.orthanc_config)
        path = os.path.join(self.directory, "orthanc.json")
        with open(path, "w") as f:
            json.dump(config, f, indent=2)

        self.log = open(os.path.join(self.directory, "orthanc.log"), "ab")
        self.process = subprocess.Popen([ORTHANC, path], stdout=self.log, stderr=subprocess.STDOUT,
                                        cwd=self.directory)
        self.url = "http://127.0.0.1:%d" % http_port
        auth = None
        users = self.orthanc_config.get("RegisteredUsers")
        if users:
            auth = next(iter(users.items()))
        deadline = time.time() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("Orthanc exited with %s, see %s" %
                                   (self.process.returncode, os.path.join(self.directory, "orthanc.log")))
            try:
                if requests.get(self.url + "/system", auth=auth, timeout=2).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            if time.time() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError("Orthanc did not start")
            time.sleep(0.2)

    def __exit__(self, *args):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return False
