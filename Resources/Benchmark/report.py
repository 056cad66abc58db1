"""Medians, ratios against the targets of issue 14, the printed tables and the JSON."""

import json
import statistics

from memory_probe import MB

# key: (printed name, reference key for the "speed vs" column)
OPERATIONS = [
    ("ingest", "REST ingest (POST /instances)"),
    ("anonymize", "Orthanc /anonymize"),
    ("basic", "/deidentify Basic"),
    ("encrypted", "/deidentify + 1 recipient"),
    ("clean", "/deidentify + Clean options"),
    ("copy", "plain copy (cp -r)"),
    ("gdcmanon", "gdcmanon -e"),
    ("cli_basic", "CLI Basic"),
    ("cli_encrypted", "CLI + 1 recipient"),
]

# (name, numerator, denominator, comparison, target, unit): value = numerator / denominator.
# For times, "a / b" <= x means a takes at most x times as long as b; for speeds the
# ratio of times is inverted (b's time / a's time = a's speed / b's speed).
TIME_TARGETS = [
    ("/deidentify Basic time / REST ingest time", "basic", "ingest", "<=", 1.0),
    ("/deidentify + 1 recipient time / REST ingest time", "encrypted", "ingest", "<=", 1.0),
    ("/deidentify + Clean options time / REST ingest time", "clean", "ingest", "<=", 1.0),
    ("/deidentify Basic speed / /anonymize speed", "anonymize", "basic", ">=", 1.5),
    ("CLI + 1 recipient speed / gdcmanon -e speed", "gdcmanon", "cli_encrypted", ">=", 2.0),
    ("CLI + 1 recipient time / plain copy time", "cli_encrypted", "copy", "<=", 2.0),
]


def _check(value, comparison, target):
    if comparison == "<=":
        return value <= target
    if comparison == "<":
        return value < target
    return value >= target


def summarize(times, cpu_times, count, total_bytes):
    operations = {}
    for key, name in OPERATIONS:
        if times.get(key):
            median = statistics.median(times[key])
            operations[key] = {"Name": name, "Seconds": times[key], "MedianSeconds": median,
                               "InstancesPerSecond": count / median, "MBPerSecond": total_bytes / MB / median,
                               "CpuSeconds": cpu_times[key], "MedianCpuSeconds": statistics.median(cpu_times[key])}
    return operations


def targets(operations, memory):
    results = []
    for name, numerator, denominator, comparison, target in TIME_TARGETS:
        entry = {"Name": name, "Target": "%s %.1fx" % (comparison, target)}
        if numerator in operations and denominator in operations:
            value = operations[numerator]["MedianSeconds"] / operations[denominator]["MedianSeconds"]
            entry.update({"Value": value, "Pass": _check(value, comparison, target)})
        else:
            entry.update({"Value": None, "Pass": None})
        results.append(entry)
    job = memory.get("Job")
    entry = {"Name": "Orthanc memory growth over the %s-instance job (MB)" % (job["Instances"] if job else "N"),
             "Target": "< 100 MB"}
    entry.update({"Value": job["GrowthMB"], "Pass": job["GrowthMB"] < 100} if job else {"Value": None, "Pass": None})
    results.append(entry)
    large = memory.get("LargeInstance")
    entry = {"Name": "Peak memory growth / size of one large instance (/tools/deidentify)", "Target": "<= 1.5x"}
    entry.update({"Value": large["PeakOverSize"], "Pass": large["PeakOverSize"] <= 1.5} if large
                 else {"Value": None, "Pass": None})
    results.append(entry)
    return results


def print_report(header, operations, memory, results, skipped, out):
    for line in header:
        print(line, file=out)
    print(file=out)
    anonymize = operations.get("anonymize", {}).get("MedianSeconds")
    print("| Operation | median s | instances/s | MB/s | speed vs /anonymize | median CPU s |", file=out)
    print("|---|---|---|---|---|---|", file=out)
    for key, _ in OPERATIONS:
        if key in operations:
            o = operations[key]
            versus = "%.2fx" % (anonymize / o["MedianSeconds"]) if anonymize else "-"
            print("| %s | %.2f | %.1f | %.1f | %s | %.2f |" % (o["Name"], o["MedianSeconds"], o["InstancesPerSecond"],
                                                               o["MBPerSecond"], versus, o["MedianCpuSeconds"]),
                  file=out)
    print("(CPU: Orthanc's user + system time for the REST rows, not the benchmark's HTTP clients; the"
          " process's for the file rows)", file=out)
    job, large = memory.get("Job"), memory.get("LargeInstance")
    if job or large:
        print(file=out)
        print("| Memory (Orthanc, resident) | before MB | peak MB | growth MB | note |", file=out)
        print("|---|---|---|---|---|", file=out)
        if job:
            print("| /studies/{id}/deidentify job, %d instances | %.0f | %.0f | %.0f | %.1f s, %.0f instances/s |"
                  % (job["Instances"], job["BaselineMB"], job["PeakMB"], job["GrowthMB"], job["Seconds"],
                     job["InstancesPerSecond"]), file=out)
        if large:
            print("| /tools/deidentify, one %.0f MB multi-frame instance | %.0f | %.0f | %.0f | %.2fx its size, "
                  "%.1f s |" % (large["SizeMB"], large["BaselineMB"], large["PeakMB"], large["GrowthMB"],
                                large["PeakOverSize"], large["Seconds"]), file=out)
            print("| reference: Orthanc's own POST /instances of the same file | | | %.0f | %.2fx its size |"
                  % (large["OrthancIngestGrowthMB"], large["OrthancIngestPeakOverSize"]), file=out)
    print(file=out)
    print("| Ratio | measured | target | result |", file=out)
    print("|---|---|---|---|", file=out)
    for r in results:
        if r["Value"] is None:
            print("| %s | - | %s | SKIPPED |" % (r["Name"], r["Target"]), file=out)
        else:
            unit = "" if "(MB)" in r["Name"] else "x"
            print("| %s | %.2f%s | %s | %s |" % (r["Name"], r["Value"], unit, r["Target"],
                                                 "PASS" if r["Pass"] else "FAIL"), file=out)
    for line in skipped:
        print("Skipped: " + line, file=out)


def write_json(path, document):
    with open(path, "w") as f:
        json.dump(document, f, indent=2)
