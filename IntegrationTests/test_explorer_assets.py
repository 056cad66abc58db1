"""The Orthanc Explorer extension without a browser: what Orthanc serves, the
capabilities route the page relies on, and a guard that the script never
builds HTML from strings (the browser test, IntegrationTests/browser/, clicks
through the dialogs)."""

import glob
import os
import re

from conftest import ROOT

EXPLORER_DIR = os.path.join(ROOT, "Resources", "Explorer")
SCRIPTS = sorted(glob.glob(os.path.join(EXPLORER_DIR, "*.js")))


def test_orthanc_serves_the_embedded_script_css_and_templates(orthanc):
    script = orthanc.get("/plugins/explorer.js").text
    assert "window.DeidentificationExplorerAssets = " in script
    assert len(SCRIPTS) >= 2
    positions = []
    for path in SCRIPTS:   # every script, in file-name order (Common.js first)
        with open(path) as f:
            positions.append(script.index(f.read().strip()))
    assert positions == sorted(positions)
    # The CSS and the HTML templates travel as JSON strings inside the script.
    assert '"Deidentification.css":' in script and '"Dialogs.html":' in script
    assert 'id=\\"deid-template-preview\\"' in script


def test_capabilities_default(orthanc):
    caps = orthanc.get_json("/deidentification/capabilities")
    assert caps["Deidentification"] is True and caps["Preview"] is True
    assert caps["Reidentification"] is False          # secure by default
    assert caps["ConfiguredPrivateKey"] is False
    assert caps["MappingLookup"] is False
    assert caps["SourceMetadata"] == "DeidentifiedFrom"
    # The send and rules/test routes are registered whenever the plugin is enabled.
    assert caps["Send"] is True and caps["RulesTest"] is True


def test_capabilities_follow_the_configuration(start_orthanc):
    server = start_orthanc({"Deidentification": {"EnableReidentification": True, "EnableMappingLookup": True}},
                           name="capabilities")
    caps = server.get_json("/deidentification/capabilities")
    assert caps["Reidentification"] is True and caps["MappingLookup"] is True
    assert caps["ConfiguredPrivateKey"] is False
    server.stop()


def test_script_inserts_values_as_text_only():
    """Values go through .text()/.val()/.attr(): no HTML is built from strings
    that could hold DICOM values (markup in a patient name must not run)."""
    for path in SCRIPTS:
        with open(path) as f:
            code = f.read()
        for forbidden in (".html(", "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert forbidden not in code, (path, forbidden)
        # jQuery builds elements from literal markup only: $('<tag ...>') with no concatenation.
        for literal in re.findall(r"\$\((['\"])<.*?\1\s*([+)])", code):
            assert literal[1] == ")", (path, "markup built by concatenation")
        assert "append(' " not in code and "append(\"" not in code, path
