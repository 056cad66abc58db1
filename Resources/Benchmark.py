#!/usr/bin/python3
"""Side-by-side benchmark, measured in one run: Orthanc's built-in
POST /studies/{id}/anonymize against our POST /studies/{id}/deidentify
(Basic Profile, and Basic Profile with three Options), all Synchronous, on
one real Orthanc with the plugin (started with IntegrationTests/conftest.py).
Optionally (if gdcmanon is installed) gdcmanon -e on the same files on disk
against our route with a recipient (Encrypted Attributes Sequence, E.1.1).

The runs are interleaved over the repetitions, and each produced study is
deleted before the next run (our keyed UIDs give the same instances when a
profile is repeated). Prints medians and ratios; asserts nothing on speed.

Usage: /usr/bin/python3 Resources/Benchmark.py [--plugin build/libOrthancDeidentification.so]
         [--instances 200] [--repeat 3] [--warmup 1] [--threads N] [--no-gdcmanon]
"""

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "IntegrationTests"))
import conftest  # noqa: E402  (the real-Orthanc start logic of the integration tests)
import pydicom  # noqa: E402
from pydicom.uid import generate_uid  # noqa: E402

CT = os.path.join(conftest.PYDICOM_TEST_FILES, "CT_small.dcm")
OPTIONS = ["RetainLongitudinalModifiedDates", "RetainPatientCharacteristics", "CleanDescriptors"]


def synthetic_study(count):
    """count copies of CT_small.dcm in one study and one series, each with a fresh SOP Instance UID."""
    with open(CT, "rb") as f:
        template = f.read()
    study, series = generate_uid(), generate_uid()
    files = []
    for number in range(1, count + 1):
        ds = pydicom.dcmread(io.BytesIO(template))
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = series
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.InstanceNumber = number
        out = io.BytesIO()
        ds.save_as(out, write_like_original=True)
        files.append(out.getvalue())
    return files


def timed_route(server, path, body, count):
    def run():
        start = time.perf_counter()
        answer = server.post_json(path, body)
        elapsed = time.perf_counter() - start
        produced = len(server.get_json("/studies/%s/instances" % answer["ID"]))
        if produced != count:
            raise RuntimeError("%s produced %d instances instead of %d" % (path, produced, count))
        server.delete("/studies/" + answer["ID"])
        return elapsed
    return run


def timed_gdcmanon(certificate, in_dir, out_dir, count):
    def run():
        shutil.rmtree(out_dir, ignore_errors=True)
        start = time.perf_counter()
        subprocess.run(["gdcmanon", "-e", "-c", certificate, "-i", in_dir, "-o", out_dir, "--continue"],
                       check=True, capture_output=True)
        elapsed = time.perf_counter() - start
        if len(os.listdir(out_dir)) != count:
            raise RuntimeError("gdcmanon did not write %d files" % count)
        return elapsed
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plugin", default=conftest.PLUGIN, help="the plugin (default: $DEID_PLUGIN or %(default)s)")
    parser.add_argument("--instances", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    parser.add_argument("--threads", type=int, help="Deidentification.ThreadsPerJob (default: the plugin's)")
    parser.add_argument("--no-gdcmanon", action="store_true", help="skip the gdcmanon comparison")
    args = parser.parse_args()
    if not os.path.exists(args.plugin):
        sys.exit("The plugin is not built: %s (use --plugin or DEID_PLUGIN)" % args.plugin)
    conftest.PLUGIN = os.path.abspath(args.plugin)   # read by conftest.base_config()

    work = tempfile.mkdtemp(prefix="deid-bench-")
    factory = conftest.OrthancFactory(work)
    try:
        use_gdcm = not args.no_gdcmanon and shutil.which("gdcmanon") and shutil.which("openssl")
        section = {}
        if args.threads:
            section["ThreadsPerJob"] = args.threads
        if use_gdcm:
            key, certificate = os.path.join(work, "key.pem"), os.path.join(work, "cert.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                            "-out", certificate, "-subj", "/CN=benchmark", "-days", "1"],
                           check=True, capture_output=True)
            section["Recipients"] = {"custodian": certificate}
        server = factory({"Deidentification": section}, name="bench")

        files = synthetic_study(args.instances)
        study = None
        for data in files:
            answer = server.upload(data)
            if answer is None:
                raise RuntimeError("Orthanc refused a synthetic instance")
            study = answer["ParentStudy"]

        n = args.instances
        cases = [
            ("Orthanc /anonymize", timed_route(server, "/studies/%s/anonymize" % study, {"Synchronous": True}, n)),
            ("/deidentify Basic", timed_route(server, "/studies/%s/deidentify" % study, {"Synchronous": True}, n)),
            ("/deidentify +3 Options", timed_route(server, "/studies/%s/deidentify" % study,
                                                   {"Options": OPTIONS, "Synchronous": True}, n)),
        ]
        if use_gdcm:
            in_dir, out_dir = os.path.join(work, "in"), os.path.join(work, "out")
            os.mkdir(in_dir)
            for index, data in enumerate(files):
                with open(os.path.join(in_dir, "%05d.dcm" % index), "wb") as f:
                    f.write(data)
            cases += [
                ("/deidentify + recipient", timed_route(server, "/studies/%s/deidentify" % study,
                                                        {"Recipients": ["custodian"], "Synchronous": True}, n)),
                ("gdcmanon -e (files)", timed_gdcmanon(certificate, in_dir, out_dir, n)),
            ]

        times = {name: [] for name, _ in cases}
        for round_ in range(args.warmup + args.repeat):
            for name, run in cases:          # interleaved: every case once per round
                elapsed = run()
                if round_ >= args.warmup:
                    times[name].append(elapsed)

        system = server.get_json("/system")
        print("Machine: %d cores (nproc), load average %.1f, Orthanc %s" % (len(os.sched_getaffinity(0)),
              os.getloadavg()[0], system.get("Version")))
        print("%d instances of CT_small.dcm (%d KB each), median of %d interleaved runs after %d warm-up round(s)"
              % (n, len(files[0]) // 1024, args.repeat, args.warmup))
        if args.threads:
            print("Deidentification.ThreadsPerJob: %d" % args.threads)
        print("Options: %s" % ", ".join(OPTIONS))
        print()
        reference = statistics.median(times["Orthanc /anonymize"])
        print("| %-24s | %9s | %11s | %19s |" % ("Operation", "median s", "instances/s", "speed vs /anonymize"))
        print("|%s|%s|%s|%s|" % ("-" * 26, "-" * 11, "-" * 13, "-" * 21))
        for name, _ in cases:
            median = statistics.median(times[name])
            print("| %-24s | %9.3f | %11.1f | %18.2fx |" % (name, median, n / median, reference / median))
        if use_gdcm:
            ratio = statistics.median(times["gdcmanon -e (files)"]) / statistics.median(
                times["/deidentify + recipient"])
            print()
            print("/deidentify + recipient vs gdcmanon -e: %.2fx the speed (gdcmanon reads and writes plain files,"
                  " the route reads and stores through Orthanc)" % ratio)
    finally:
        factory.stop_all()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
