"""Resources/Benchmark.py keeps working (README, "Performance"): a tiny run of
every part (10 instances of 64x64, a 50-instance memory job, a 4 MB
multi-frame instance) must print the ratio table, write its JSON and exit 0;
a run that breaks must exit non-zero. The speeds themselves are not checked
here: the benchmark is a measurement, run in full by hand.
"""

import json
import os
import subprocess
import sys

from conftest import PLUGIN, ROOT

BENCHMARK = os.path.join(ROOT, "Resources", "Benchmark.py")
CLI = os.environ.get("DEID_CLI", os.path.join(ROOT, "build", "orthanc-deidentify"))


def run_benchmark(*arguments):
    return subprocess.run([sys.executable, BENCHMARK] + list(arguments), capture_output=True, text=True,
                          timeout=300)


def test_tiny_run_prints_every_ratio(tmp_path):
    numbers = tmp_path / "benchmark.json"
    result = run_benchmark("--plugin", PLUGIN, "--cli", CLI, "--instances", "10", "--size", "64", "--repeat", "1",
                           "--warmup", "0", "--memory-instances", "50", "--large-mb", "4",
                           "--workdir", str(tmp_path), "--json", str(numbers))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    document = json.loads(numbers.read_text())
    expected = ["ingest", "anonymize", "basic", "encrypted", "clean", "copy", "gdcmanon"]
    if os.access(CLI, os.X_OK):
        expected += ["cli_basic", "cli_encrypted"]
    else:
        assert "CLI not built" in result.stdout
    for key in expected:
        operation = document["Operations"][key]
        assert len(operation["Seconds"]) == 1 and operation["InstancesPerSecond"] > 0, key
        assert operation["MedianCpuSeconds"] >= 0, key
    assert document["Memory"]["Job"]["Instances"] == 50
    assert document["Memory"]["Job"]["PeakMB"] >= document["Memory"]["Job"]["BaselineMB"] > 0
    large = document["Memory"]["LargeInstance"]
    assert 3.9 < large["SizeMB"] < 4.5 and large["PeakOverSize"] > 0 and "OrthancIngestPeakOverSize" in large
    targets = document["Targets"]
    assert len(targets) == 8
    measured = [t for t in targets if t["Value"] is not None]
    assert len(measured) == (8 if os.access(CLI, os.X_OK) else 6)
    for target in measured:
        assert ("PASS" if target["Pass"] else "FAIL") in result.stdout
    assert "| Ratio | measured | target | result |" in result.stdout
    assert "/deidentify Basic speed / /anonymize speed" in result.stdout
    assert os.listdir(tmp_path) == ["benchmark.json"]   # the temporary folder is removed


def test_a_broken_run_exits_non_zero(tmp_path):
    not_a_plugin = tmp_path / "not-a-plugin.so"
    not_a_plugin.write_text("not a shared library")
    result = run_benchmark("--plugin", str(not_a_plugin), "--instances", "1", "--size", "16", "--repeat", "1",
                           "--warmup", "0", "--memory-instances", "0", "--large-mb", "0", "--no-cli",
                           "--workdir", str(tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Benchmark broke" in result.stderr
