"""The two memory measurements, each in a fresh Orthanc (so that earlier
runs do not hide or add memory) with Orthanc's storage cache off (the
"MaximumStorageCacheSize" of 128 MB by default would otherwise count
Orthanc's own cache as growth):

- a de-identification job over one study of many small instances: the growth
  of Orthanc's resident memory, peak during the job minus the resident size
  just before it (after the ingest);
- one large multi-frame instance through POST /tools/deidentify: the peak
  growth during the request relative to the file size; then, for reference,
  the growth during Orthanc's own POST /instances of the same file.
"""

import concurrent.futures
import os
import shutil
import threading
import time

import requests

from memory_probe import MB, PeakSampler
from orthanc_process import OrthancProcess

NO_CACHE = {"MaximumStorageCacheSize": 0}


def _upload_all(server, paths, clients):
    local = threading.local()

    def upload(path):
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        with open(path, "rb") as f:
            return server.request("POST", "/instances", session=session, data=f.read(),
                                  headers={"Content-Type": "application/dicom"}).json()["ParentStudy"]

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        studies = set(pool.map(upload, paths))
    if len(studies) != 1:
        raise RuntimeError("the memory study was stored as %d studies" % len(studies))
    return studies.pop()


def job_memory(plugin, directory, paths, clients, extra_config, log):
    server = OrthancProcess(plugin, directory, dict(extra_config, **NO_CACHE)).start()
    try:
        start = time.perf_counter()
        study = _upload_all(server, paths, clients)
        log("  ingested %d instances in %.1f s" % (len(paths), time.perf_counter() - start))
        time.sleep(1)  # let Orthanc settle after the ingest
        with PeakSampler(server.pid) as sampler, requests.Session() as fresh:   # fresh: see _post_file
            start = time.perf_counter()
            job_id = server.request("POST", "/studies/%s/deidentify" % study, session=fresh, data="{}").json()["ID"]
            job = server.wait_for_job(job_id)
            elapsed = time.perf_counter() - start
        if job["State"] != "Success":
            raise RuntimeError("the memory job ended in %s: %s" % (job["State"], str(job.get("Content"))[:1000]))
        result = sampler.as_json()
        result.update({"Instances": len(paths), "Seconds": elapsed, "InstancesPerSecond": len(paths) / elapsed})
        return result
    finally:
        server.stop()


def _post_file(plugin, directory, path, route, extra_config, out_path):
    """POST the file to route in a fresh Orthanc; returns (sampler, seconds, answer size)."""
    size = os.path.getsize(path)
    server = OrthancProcess(plugin, directory, dict(extra_config, **NO_CACHE)).start()
    # A new connection: the one that polled Orthanc's start has been idle
    # for about Orthanc's keep-alive timeout, and a request sent just as
    # Orthanc closes it gets "Remote end closed connection".
    fresh = requests.Session()
    try:
        time.sleep(1)
        with PeakSampler(server.pid) as sampler:
            start = time.perf_counter()
            with open(path, "rb") as body:
                # "identity": requests asks for gzip by default, and Orthanc would then
                # compress the answer (most of the time and memory would be zlib's).
                response = server.request("POST", route, session=fresh, data=body, stream=True,
                                          headers={"Content-Type": "application/dicom",
                                                   "Content-Length": str(size), "Accept-Encoding": "identity"})
                with open(out_path, "wb") as out:
                    for chunk in response.iter_content(1 << 20):
                        out.write(chunk)
            elapsed = time.perf_counter() - start
        return sampler, elapsed, os.path.getsize(out_path)
    finally:
        fresh.close()
        server.stop()
        if os.path.exists(out_path):
            os.remove(out_path)
        shutil.rmtree(directory, ignore_errors=True)


def large_instance_memory(plugin, directory, path, extra_config):
    size = os.path.getsize(path)
    out_path = os.path.join(os.path.dirname(path), "large-answer.tmp")
    sampler, elapsed, written = _post_file(plugin, directory + "-deidentify", path, "/tools/deidentify",
                                           extra_config, out_path)
    if written < size // 2:
        raise RuntimeError("/tools/deidentify answered %d bytes for a %d-byte instance" % (written, size))
    result = sampler.as_json()
    result.update({"SizeMB": size / MB, "Seconds": elapsed, "PeakOverSize": sampler.growth / float(size)})
    # For reference: what Orthanc alone needs to receive and store the same file (a fresh Orthanc too).
    reference, _, _ = _post_file(plugin, directory + "-ingest", path, "/instances", extra_config, out_path)
    result["OrthancIngestGrowthMB"] = reference.growth / MB
    result["OrthancIngestPeakOverSize"] = reference.growth / float(size)
    return result
