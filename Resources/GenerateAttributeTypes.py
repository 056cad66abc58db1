#!/usr/bin/env python3
"""Generates Profiles/AttributeTypes.json: the PS3.3 Type of the attributes that
PS3.15 Table E.1-1 touches, per module, and the modules of each IOD with their
SOP Classes (python3 stdlib only).

PS3.15 E.1: "It is the responsibility of the de-identifier to ensure that this
process does not negatively affect the integrity of the Information Object
Definition". The engine picks the branch of a combined action (X/Z, X/D, Z/D,
X/Z/D) and replaces X on Type 1/2 attributes by the attribute's Type in the
instance's IOD, at its nesting path.

Sources (../shared/standard, see SOURCES.md there; never committed):
  - module_attributes_d3t20251020.csv: every attribute of every module, with its
    nesting path and Type, from dicom3tools' templates (snapshot 2025-10-20);
  - iod_modules_d3t20251020.csv: the modules of each dicom3tools IOD (the ones
    dciodvfy checks) with their SOP Classes;
  - iod_modules_2026b.csv: highdicom's 2026b IOD -> module map, used for the
    IODs that dicom3tools lacks, when every one of their modules is in
    dicom3tools;
  - Profiles/AttributeConfidentialityProfile.json: the tags of Table E.1-1.

The table keeps, per module, only the rows the engine can use (so that it stays
small): attributes listed in Table E.1-1, the sequences on their paths, and the
Type 1 attributes nested in listed sequences (the content of a dummy item).
Paths are tags (gggg,eeee as 8 hex digits, repeating groups as 50xx/60xx)
joined by '>'. Modules are shared between IODs.

  GenerateAttributeTypes.py [--standard DIR] [--output DIR]   regenerate
  GenerateAttributeTypes.py --check                            verify (ctest AttributeTypesMatchStandard)
"""

import argparse
import collections
import csv
import json
import os
import re
import sys

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(SCRIPT_DIR)
DEFAULT_STANDARD = os.path.normpath(os.path.join(REPO_ROOT, '..', 'shared', 'standard'))
DEFAULT_OUTPUT = os.path.join(REPO_ROOT, 'Profiles')

MODULE_ATTRIBUTES = 'module_attributes_d3t20251020.csv'
IOD_MODULES_D3T = 'iod_modules_d3t20251020.csv'
IOD_MODULES_2026B = 'iod_modules_2026b.csv'
E11_FILE = 'AttributeConfidentialityProfile.json'
OUTPUT_FILE = 'AttributeTypes.json'
# For the tests (not embedded): the Type 1 and 2 attributes of the mandatory
# modules of each IOD, from which UnitTests/IodConformanceTests.cpp builds one
# synthetic instance per IOD.
TEST_OUTPUT = os.path.join(REPO_ROOT, 'UnitTests', 'IodMandatoryAttributes.json')
SOURCE = ('PS3.3 attribute Types from dicom3tools 1.00.snapshot.20251020111927 (%s, %s); '
          'IODs missing from dicom3tools from highdicom 2026b (%s)'
          % (MODULE_ATTRIBUTES, IOD_MODULES_D3T, IOD_MODULES_2026B))

# Minimum sizes (a truncated source must not go unnoticed).
EXPECTED_MIN_IODS = 130
EXPECTED_MIN_MODULES = 250

TAG_RE = re.compile(r'^\(([0-9A-Fa-fx]{4}),([0-9A-Fa-fx]{4})\)$')


class GenerationError(Exception):
    pass


def Require(condition, message):
    if not condition:
        raise GenerationError(message)


def TagKey(tagText):
    """'(0008,1110)' -> '00081110'; '(60xx,3000)' -> '60xx3000'."""
    m = TAG_RE.match(tagText)
    Require(m is not None, 'bad tag %r' % tagText)
    return (m.group(1) + m.group(2)).upper().replace('X', 'x')


def ModuleDisplayName(name):
    """'PresentationStateIdentification' -> 'Presentation State Identification'."""
    spaced = re.sub(r'(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])', ' ', name)
    return spaced.replace('_', ' ')


def E11Matchers(profilesDir):
    with open(os.path.join(profilesDir, E11_FILE), encoding='utf-8') as f:
        table = json.load(f)
    rows = table['Attributes'] if isinstance(table, dict) else table
    exact, masks = set(), []
    for row in rows:
        tag = row['Tag']
        m = TAG_RE.match(tag)
        if m is None:
            continue   # the "gggg is odd" row: private attributes have no Type
        key = (m.group(1) + m.group(2)).upper().replace('X', 'x')
        if 'x' in key:
            masks.append(re.compile('^' + key.replace('x', '[0-9A-Fx]') + '$'))
        else:
            exact.add(key)
    return lambda key: key in exact or any(m.match(key) for m in masks)


def ReadModules(standardDir, listed):
    """module -> {path: type}, pruned to what the engine uses."""
    rows = collections.defaultdict(list)
    with open(os.path.join(standardDir, MODULE_ATTRIBUTES), encoding='utf-8', newline='') as f:
        for r in csv.DictReader(f):
            rows[r['module']].append(r)
    Require(len(rows) >= EXPECTED_MIN_MODULES, '%s: only %d modules' % (MODULE_ATTRIBUTES, len(rows)))

    modules = {}
    for module, attributes in rows.items():
        byPath = {}
        for r in attributes:
            # The path holds keywords; the tags come from the row of each prefix.
            byPath[r['path']] = r
        typed = {}
        for path, r in byPath.items():
            parts = path.split('>')
            tags = []
            for i in range(len(parts)):
                prefix = '>'.join(parts[:i + 1])
                Require(prefix in byPath, '%s: no row for %s' % (module, prefix))
                tags.append(TagKey(byPath[prefix]['tag']))
            typed[path] = (tags, r['type'].strip() or '3', r['is_sequence'] == 'Y')

        keep = set()
        for path, (tags, typ, isSeq) in typed.items():
            if listed(tags[-1]):
                # the attribute and every sequence on its path
                parts = path.split('>')
                for i in range(len(parts)):
                    keep.add('>'.join(parts[:i + 1]))
        for path, (tags, typ, isSeq) in typed.items():
            # Type 1 content nested in a listed sequence (dummy items), through
            # Type 1 sequences only.
            parts = path.split('>')
            for i in range(len(parts) - 1):
                if listed(typed['>'.join(parts[:i + 1])][0][-1]):
                    inner = [typed['>'.join(parts[:j + 1])][1] for j in range(i + 1, len(parts))]
                    if all(t == '1' for t in inner):
                        keep.add(path)
                    break
        if keep:
            modules[module] = {'>'.join(typed[p][0]): typed[p][1] for p in keep}
    return modules


def ReadMandatoryAttributes(standardDir, moduleNames):
    """module -> sorted tag paths of its Type 1 and 2 attributes (not 1C/2C),
    nested only in Type 1 or 2 sequences."""
    rows = collections.defaultdict(dict)
    with open(os.path.join(standardDir, MODULE_ATTRIBUTES), encoding='utf-8', newline='') as f:
        for r in csv.DictReader(f):
            if r['module'] in moduleNames:
                rows[r['module']][r['path']] = r
    result = {}
    for module, byPath in rows.items():
        paths = []
        for path, r in byPath.items():
            parts = path.split('>')
            prefixes = ['>'.join(parts[:i + 1]) for i in range(len(parts))]
            if all(byPath[q]['type'].strip() in ('1', '2') for q in prefixes):
                paths.append(('>'.join(TagKey(byPath[q]['tag']) for q in prefixes), byPath[path]['type'].strip()))
        result[module] = sorted(paths)
    return result


def GenerateTestFile(standardDir, iods):
    mandatory = collections.OrderedDict()
    for iod in iods:
        if iod['Source'] != 'dicom3tools':
            continue   # dciodvfy only knows the dicom3tools IODs
        mandatory[iod['IOD']] = (iod['SOPClassUIDs'][0], [m for m, u in iod['Modules'] if u == 'M'])
    names = sorted({m for _, ms in mandatory.values() for m in ms})
    attributes = ReadMandatoryAttributes(standardDir, set(names))
    lines = ['{', '  "Source": %s,' % json.dumps(SOURCE), '  "Modules": {']
    for i, m in enumerate(names):
        body = json.dumps(['%s:%s' % (p, t) for p, t in attributes.get(m, [])], separators=(',', ':'))
        lines.append('    %s: %s%s' % (json.dumps(m), body, ',' if i + 1 < len(names) else ''))
    lines.append('  },')
    lines.append('  "IODs": [')
    items = list(mandatory.items())
    for i, (name, (sop, ms)) in enumerate(items):
        lines.append('    %s%s' % (json.dumps({'IOD': name, 'SOPClassUID': sop, 'Modules': ms}, separators=(',', ':')),
                                   ',' if i + 1 < len(items) else ''))
    lines.append('  ]')
    lines.append('}')
    return '\n'.join(lines) + '\n'


def ReadIods(standardDir, modules):
    iods = []
    d3tSops = set()
    byIod = collections.OrderedDict()
    with open(os.path.join(standardDir, IOD_MODULES_D3T), encoding='utf-8', newline='') as f:
        for r in csv.DictReader(f):
            if r['profile'] or not r['sop_class_uids']:
                continue   # IHE / WG profile variants; Basic Directory
            entry = byIod.setdefault(r['iod'], {'sops': r['sop_class_uids'].split(), 'modules': []})
            entry['modules'].append((r['module'], r['usage']))
    for name, entry in byIod.items():
        d3tSops.update(entry['sops'])
        iods.append({'IOD': name, 'Source': 'dicom3tools', 'SOPClassUIDs': entry['sops'],
                     'Modules': entry['modules']})

    byIod = collections.OrderedDict()
    with open(os.path.join(standardDir, IOD_MODULES_2026B), encoding='utf-8', newline='') as f:
        for r in csv.DictReader(f):
            entry = byIod.setdefault(r['iod_id'], {'sops': r['sop_class_uids'].split(), 'modules': []})
            entry['modules'].append((r['d3t_module'], r['usage']))
    for name, entry in byIod.items():
        sops = [s for s in entry['sops'] if s not in d3tSops]
        if not sops or len(sops) != len(entry['sops']) or not all(m for m, _ in entry['modules']):
            continue   # covered by dicom3tools, or a module without Types
        if name == 'basic-directory':
            continue
        iods.append({'IOD': name, 'Source': 'highdicom 2026b', 'SOPClassUIDs': sops,
                     'Modules': entry['modules']})
    Require(len(iods) >= EXPECTED_MIN_IODS, 'only %d IODs' % len(iods))
    return iods


def Generate(standardDir, profilesDir):
    listed = E11Matchers(profilesDir)
    modules = ReadModules(standardDir, listed)
    iods = ReadIods(standardDir, modules)

    used = set()
    for iod in iods:
        used.update(m for m, _ in iod['Modules'])
    lines = ['{', '  "Source": %s,' % json.dumps(SOURCE), '  "Modules": {']
    names = sorted(m for m in used if m in modules)
    for i, m in enumerate(names):
        body = json.dumps(modules[m], sort_keys=True, separators=(',', ':'))
        lines.append('    %s: %s%s' % (json.dumps(ModuleDisplayName(m)), body, ',' if i + 1 < len(names) else ''))
    lines.append('  },')
    lines.append('  "IODs": [')
    for i, iod in enumerate(iods):
        mods = [[ModuleDisplayName(m), u] for m, u in iod['Modules']]
        entry = collections.OrderedDict([('IOD', iod['IOD']), ('Source', iod['Source']),
                                         ('SOPClassUIDs', iod['SOPClassUIDs']), ('Modules', mods)])
        lines.append('    %s%s' % (json.dumps(entry, separators=(',', ':')), ',' if i + 1 < len(iods) else ''))
    lines.append('  ]')
    lines.append('}')
    return '\n'.join(lines) + '\n', len(iods), len(names), GenerateTestFile(standardDir, iods)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--standard', default=DEFAULT_STANDARD)
    parser.add_argument('--output', default=DEFAULT_OUTPUT, help='the Profiles directory (default: %(default)s)')
    parser.add_argument('--check', action='store_true',
                        help='verify that %s is exactly what the sources give' % OUTPUT_FILE)
    args = parser.parse_args()
    try:
        if args.check and not os.path.exists(os.path.join(args.standard, MODULE_ATTRIBUTES)):
            print('skipped: %s not present' % os.path.join(os.path.relpath(args.standard, REPO_ROOT), MODULE_ATTRIBUTES))
            return 0
        text, iodCount, moduleCount, testText = Generate(args.standard, args.output)
        target = os.path.join(args.output, OUTPUT_FILE)
        if args.check:
            for path, expected in ((target, text), (TEST_OUTPUT, testText)):
                committed = open(path, encoding='utf-8').read() if os.path.exists(path) else None
                if committed != expected:
                    print('%s does not match the sources; run Resources/GenerateAttributeTypes.py'
                          % os.path.relpath(path, REPO_ROOT))
                    return 1
            print('ok: %s and %s match the sources (%d IODs, %d modules)'
                  % (OUTPUT_FILE, os.path.relpath(TEST_OUTPUT, REPO_ROOT), iodCount, moduleCount))
            return 0
        for path, content in ((target, text), (TEST_OUTPUT, testText)):
            with open(path, 'w', encoding='utf-8', newline='\n') as f:
                f.write(content)
            print('wrote %s (%d bytes)' % (path, len(content)))
        print('%d IODs, %d modules' % (iodCount, moduleCount))
        return 0
    except (GenerationError, OSError, KeyError, ValueError) as e:
        print('error: %s' % e, file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
