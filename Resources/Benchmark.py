#!/usr/bin/python3
"""One benchmark run that prints every ratio of issue 14 (README, "Performance").

1. Generates a synthetic CT study (its own generator: identifying header,
   private elements, nested sequences; default 500 instances of 512x512
   16-bit) into a temporary folder.
2. Starts a real Orthanc with the plugin and times on that study,
   interleaved over the repeats (medians): Orthanc's REST ingest of the files
   (POST /instances, parallel clients), Orthanc's POST /studies/{id}/anonymize,
   the plugin's POST /studies/{id}/deidentify with the Basic Profile, with one
   recipient (Encrypted Attributes Sequence) and with the Clean options
   (CleanDescriptors, CleanStructuredContent, CleanGraphics), all synchronous;
   and on the same files: the CLI build/orthanc-deidentify (Basic, and with the
   recipient), gdcmanon -e with the same certificate, and a plain cp -r.
   Every output is deleted before the next run.
3. Measures Orthanc's peak memory during one de-identification job over a
   study of many small instances, and for one large multi-frame instance
   through POST /tools/deidentify, each in a fresh Orthanc.
4. Prints instances/s, MB/s and each ratio with its target, PASS or FAIL.

The exit code is 0 whatever the ratios (it is a measurement); non-zero only
when something broke (Orthanc did not start, a run failed or produced the
wrong number of instances).

Usage: /usr/bin/python3 Resources/Benchmark.py [--instances 500] [--size 512] [--repeat 3]
         [--warmup 1] [--memory-instances 5000] [--large-mb 500] [--json FILE] (see --help)
"""

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "Benchmark"))

import memory_runs  # noqa: E402
import report  # noqa: E402
import study_generator  # noqa: E402
import timed_cases  # noqa: E402
from memory_probe import MB  # noqa: E402
from orthanc_process import OrthancProcess  # noqa: E402

CLEAN_OPTIONS = ["CleanDescriptors", "CleanStructuredContent", "CleanGraphics"]
PLUGIN = os.environ.get("DEID_PLUGIN", os.path.join(ROOT, "build", "libOrthancDeidentification.so"))
CLI = os.environ.get("DEID_CLI", os.path.join(ROOT, "build", "orthanc-deidentify"))


def log(message):
    print("[%s] %s" % (datetime.datetime.now().strftime("%H:%M:%S"), message), file=sys.stderr, flush=True)


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plugin", default=PLUGIN, help="the plugin (default: $DEID_PLUGIN or %(default)s)")
    parser.add_argument("--cli", default=CLI, help="the CLI (default: $DEID_CLI or %(default)s)")
    parser.add_argument("--instances", type=int, default=500, help="instances of the timed study (default 500)")
    parser.add_argument("--size", type=int, default=512, help="rows = columns of the timed study (default 512)")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds (default 3; medians)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    parser.add_argument("--threads", type=int, help="Deidentification.ThreadsPerJob (default: the plugin's)")
    parser.add_argument("--ingest-clients", type=int, default=len(os.sched_getaffinity(0)),
                        help="parallel HTTP clients of the REST ingest (default: the number of cores, %(default)s)")
    parser.add_argument("--cli-jobs", type=int, help="-j of the CLI (default: the CLI's, the number of cores)")
    parser.add_argument("--memory-instances", type=int, default=5000,
                        help="instances of the memory job (default 5000; 0 skips it)")
    parser.add_argument("--memory-size", type=int, default=64, help="rows = columns of the memory job (default 64)")
    parser.add_argument("--large-mb", type=float, default=500,
                        help="size of the large multi-frame instance in MB (default 500; 0 skips it)")
    parser.add_argument("--no-gdcmanon", action="store_true", help="skip the gdcmanon comparison")
    parser.add_argument("--no-cli", action="store_true", help="skip the CLI and plain copy comparisons")
    parser.add_argument("--json", metavar="FILE", help="also write every number to FILE")
    parser.add_argument("--workdir", help="parent of the temporary folder (default: the system's)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    return parser.parse_args()


def make_certificate(work):
    key, certificate = os.path.join(work, "recipient-key.pem"), os.path.join(work, "recipient-cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", certificate, "-subj", "/CN=benchmark recipient", "-days", "2"],
                   check=True, capture_output=True)
    return certificate


def deidentification_section(args, certificate):
    section = {
        "Recipients": {"custodian": certificate},
        # Named profiles: the secure default caller policy lets callers choose any profile,
        # not add recipients or options themselves.
        "Profiles": {"encrypted": {"Options": [], "Recipients": ["custodian"]},
                     "clean": {"Options": CLEAN_OPTIONS}},
    }
    if args.threads:
        section["ThreadsPerJob"] = args.threads
    return section


def file_cases(args, work, in_dir, certificate, section, count, skipped):
    cases = []
    out = os.path.join(work, "out")
    if args.no_cli:
        skipped.append("CLI, gdcmanon and plain copy (--no-cli)")
        return cases
    cases.append(("copy", timed_cases.plain_copy(in_dir, out, count)))
    if args.no_gdcmanon or not shutil.which("gdcmanon"):
        skipped.append("gdcmanon -e (%s)" % ("--no-gdcmanon" if args.no_gdcmanon else "gdcmanon not installed"))
    else:
        cases.append(("gdcmanon", timed_cases.gdcmanon(certificate, in_dir, out, count)))
    if not os.access(args.cli, os.X_OK):
        skipped.append("CLI not built (%s): the CLI rows and their ratios are skipped" % args.cli)
        return cases
    config = os.path.join(work, "cli-orthanc.json")
    cli_section = dict(section, KeyStore={"Type": "SQLite", "Path": os.path.join(work, "cli-keys.db")})
    with open(config, "w") as f:
        json.dump({"StorageDirectory": os.path.join(work, "cli-storage"), "Deidentification": cli_section}, f)
    summary = os.path.join(work, "cli-summary.json")
    cases.append(("cli_basic", timed_cases.cli(args.cli, config, None, in_dir, out, count, summary, args.cli_jobs)))
    cases.append(("cli_encrypted", timed_cases.cli(args.cli, config, {"Profile": "encrypted"}, in_dir, out, count,
                                                   summary, args.cli_jobs)))
    return cases


def timed_rounds(args, work, paths, certificate, section, skipped):
    server = OrthancProcess(args.plugin, os.path.join(work, "orthanc-timing"),
                            {"Deidentification": section}).start()
    try:
        system = server.get_json("/system")
        capabilities = server.get_json("/deidentification/capabilities")
        n = len(paths)
        ingest = timed_cases.RestIngest(server, paths, args.ingest_clients)
        cases = [
            ("anonymize", timed_cases.StudyRoute(server, ingest, "anonymize", {}, n)),
            ("basic", timed_cases.StudyRoute(server, ingest, "deidentify", {}, n)),
            ("encrypted", timed_cases.StudyRoute(server, ingest, "deidentify", {"Profile": "encrypted"}, n)),
            ("clean", timed_cases.StudyRoute(server, ingest, "deidentify", {"Profile": "clean"}, n)),
        ]
        files = file_cases(args, work, os.path.dirname(paths[0]), certificate, section, n, skipped)
        times, cpu_times = {}, {}
        for round_ in range(args.warmup + args.repeat):
            timed = round_ >= args.warmup
            # The ingest first (the other Orthanc cases need the stored study), then the others
            # in an order rotated every round so that none always runs right after another.
            order = cases + files
            shift = round_ % len(order)
            order = [("ingest", ingest)] + order[shift:] + order[:shift]
            for key, run in order:
                elapsed, cpu = run()
                log("  round %d/%d%s: %-14s %.2f s (CPU %.2f s)" % (round_ + 1, args.warmup + args.repeat,
                                                                    "" if timed else " (warm-up)", key, elapsed,
                                                                    cpu))
                if timed:
                    times.setdefault(key, []).append(elapsed)
                    cpu_times.setdefault(key, []).append(cpu)
        ingest.delete_study()
        cli_summary = next((run.last_summary for key, run in files if key == "cli_encrypted"), None)
        return times, cpu_times, system, capabilities, cli_summary
    finally:
        server.stop()


def memory_measurements(args, work, section):
    memory = {}
    if args.memory_instances > 0:
        log("Generating %d instances of %dx%d for the memory job" % (args.memory_instances, args.memory_size,
                                                                     args.memory_size))
        paths = study_generator.make_study(os.path.join(work, "memory-study"), args.memory_instances,
                                           args.memory_size, seed=3)
        log("Memory job over %d instances" % len(paths))
        memory["Job"] = memory_runs.job_memory(args.plugin, os.path.join(work, "orthanc-memory-job"), paths,
                                               args.ingest_clients, {"Deidentification": section}, log)
        shutil.rmtree(os.path.join(work, "memory-study"), ignore_errors=True)
        shutil.rmtree(os.path.join(work, "orthanc-memory-job"), ignore_errors=True)
    if args.large_mb > 0:
        path = os.path.join(work, "large.dcm")
        log("Generating one multi-frame instance of %.0f MB" % args.large_mb)
        study_generator.make_large_instance(path, args.large_mb)
        log("Large instance through /tools/deidentify")
        memory["LargeInstance"] = memory_runs.large_instance_memory(
            args.plugin, os.path.join(work, "orthanc-large"), path, {"Deidentification": section})
        os.remove(path)
    return memory


def run(args, work):
    skipped = []
    certificate = make_certificate(work)
    section = deidentification_section(args, certificate)
    log("Generating %d instances of %dx%d 16-bit CT" % (args.instances, args.size, args.size))
    paths = study_generator.make_study(os.path.join(work, "study"), args.instances, args.size)
    total_bytes = sum(os.path.getsize(p) for p in paths)
    load_before = os.getloadavg()
    log("Timed rounds: %d warm-up + %d timed" % (args.warmup, args.repeat))
    times, cpu_times, system, capabilities, cli_summary = timed_rounds(args, work, paths, certificate, section, skipped)
    memory = memory_measurements(args, work, section)
    load_after = os.getloadavg()

    operations = report.summarize(times, cpu_times, len(paths), total_bytes)
    results = report.targets(operations, memory)
    header = [
        "Date: %s UTC" % datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M"),
        "Machine: %d cores, load average %.1f before, %.1f after (a shared machine adds noise)"
        % (len(os.sched_getaffinity(0)), load_before[0], load_after[0]),
        "Orthanc %s, plugin %s, ThreadsPerJob %s, REST ingest by %d parallel clients, CLI -j %s"
        % (system.get("Version"), capabilities.get("Version"), args.threads or "default", args.ingest_clients,
           args.cli_jobs or "default"),
        "Study: %d instances of %dx%d 16-bit CT, %.1f MB; median of %d interleaved rounds after %d warm-up"
        % (len(paths), args.size, args.size, total_bytes / MB, args.repeat, args.warmup),
        "Clean options: %s; recipient: one self-signed RSA-2048 certificate, AES-256 (plugin and gdcmanon)"
        % ", ".join(CLEAN_OPTIONS),
    ]
    report.print_report(header, operations, memory, results, skipped, sys.stdout)
    if args.json:
        report.write_json(args.json, {
            "Header": header, "Instances": len(paths), "Size": args.size, "TotalMB": total_bytes / MB,
            "Repeat": args.repeat, "Warmup": args.warmup, "Operations": operations, "Memory": memory,
            "Targets": results, "Skipped": skipped, "CliSummary": cli_summary,
            "OrthancVersion": system.get("Version"), "PluginVersion": capabilities.get("Version")})


def main():
    args = parse_arguments()
    if not os.path.exists(args.plugin):
        print("The plugin is not built: %s (use --plugin or DEID_PLUGIN)" % args.plugin, file=sys.stderr)
        return 2
    args.plugin = os.path.abspath(args.plugin)
    args.cli = os.path.abspath(args.cli)
    if args.instances < 1 or args.repeat < 1 or args.warmup < 0:
        print("--instances and --repeat must be at least 1, --warmup at least 0", file=sys.stderr)
        return 2
    work = tempfile.mkdtemp(prefix="deid-bench-", dir=args.workdir)
    start = time.time()
    try:
        run(args, work)
    except Exception:  # a measurement that broke: the reason, then a non-zero exit code
        traceback.print_exc()
        print("Benchmark broke", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            log("Kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    log("Done in %.0f s" % (time.time() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
