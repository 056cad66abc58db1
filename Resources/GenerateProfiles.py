#!/usr/bin/env python3
"""Generates Profiles/*.json from the DICOM standard (python3 stdlib only).

Reads the NEMA DocBook of PS3.15 (part15_2026c.xml) and extracts:
  - Table E.1-1   -> Profiles/AttributeConfidentialityProfile.json
  - Table E.1-1a  -> Profiles/ActionCodes.json
  - Table E.3.10-1 -> Profiles/SafePrivateAttributes.json
and CID 7050 "De-identification Method" (PS3.16, not part of PS3.15) from the
FHIR ValueSet stored next to it -> Profiles/DeidentificationMethodCodes.json.

The standard files live outside the repository (default: ../shared/standard
relative to the repository root; see SOURCES.md there). They are never
committed; only the generated Profiles/ are.

  GenerateProfiles.py [--standard DIR] [--output DIR]   regenerate Profiles/
  GenerateProfiles.py --check                            verify Profiles/ (ctest ProfilesMatchStandard)
"""

import argparse
import collections
import csv
import filecmp
import json
import os
import re
import sys
import tempfile
import xml.etree.ElementTree as ET

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(SCRIPT_DIR)
DEFAULT_STANDARD = os.path.normpath(os.path.join(REPO_ROOT, '..', 'shared', 'standard'))
DEFAULT_OUTPUT = os.path.join(REPO_ROOT, 'Profiles')

PART15 = 'part15_2026c.xml'
CID_7050_FHIR = 'ValueSet-dicom-cid-7050-DeidentificationMethod.json'
CID_7050_CSV = 'cid_7050.csv'

DOCBOOK = '{http://docbook.org/ns/docbook}'
XML_ID = '{http://www.w3.org/XML/1998/namespace}id'

ATTRIBUTES_FILE = 'AttributeConfidentialityProfile.json'
ACTION_CODES_FILE = 'ActionCodes.json'
SAFE_PRIVATE_FILE = 'SafePrivateAttributes.json'
METHOD_CODES_FILE = 'DeidentificationMethodCodes.json'
OUTPUT_FILES = [ATTRIBUTES_FILE, ACTION_CODES_FILE, SAFE_PRIVATE_FILE, METHOD_CODES_FILE]

# Table E.1-1 columns: (header text as published, with olinks dropped; JSON name).
E11_COLUMNS = [
    ('Attribute Name', 'Name'),
    ('Tag', 'Tag'),
    ('Retd. (from )', 'Retired'),
    ('In Std. Comp. IOD (from )', 'InStdCompIOD'),
    ('Basic Prof.', 'Basic'),
    ('Rtn. Safe Priv. Opt.', 'RetainSafePrivate'),
    ('Rtn. UIDs Opt.', 'RetainUIDs'),
    ('Rtn. Dev. Id. Opt.', 'RetainDeviceIdentity'),
    ('Rtn. Inst. Id. Opt.', 'RetainInstitutionIdentity'),
    ('Rtn. Pat. Chars. Opt.', 'RetainPatientCharacteristics'),
    ('Rtn. Long. Full Dates Opt.', 'RetainLongitudinalFullDates'),
    ('Rtn. Long. Modif. Dates Opt.', 'RetainLongitudinalModifiedDates'),
    ('Clean Desc. Opt.', 'CleanDescriptors'),
    ('Clean Struct. Cont. Opt.', 'CleanStructuredContent'),
    ('Clean Graph. Opt.', 'CleanGraphics'),
]
E11_OPTION_COLUMNS = 5   # index of the first option column

E3101_COLUMNS = [('Data Element', 'Tag'), ('Private Creator', 'PrivateCreator'),
                 ('VR', 'VR'), ('VM', 'VM'), ('Meaning', 'Meaning')]

ACTION_CODES = ['D', 'Z', 'X', 'K', 'C', 'U', 'Z/D', 'X/Z', 'X/D', 'X/Z/D', 'X/Z/U*']

# Expected sizes (PS3.15 2026c, CID 7050 version 20170914).
EXPECTED_COUNTS = {ATTRIBUTES_FILE: 656, ACTION_CODES_FILE: 11, SAFE_PRIVATE_FILE: 479, METHOD_CODES_FILE: 13}
EXPECTED_BASIC_COUNTS = {'X': 416, 'D': 93, 'U': 55, 'Z': 42, 'X/D': 23, 'X/Z': 11,
                         'X/Z/D': 8, 'Z/D': 6, 'X/Z/U*': 2}

PRIVATE_ROW_TAG = '(gggg,eeee) where gggg is odd'
TAG_RE = re.compile(r'\([0-9A-Fa-fx]{4},[0-9A-Fa-fx]{4}\)')
SAFE_PRIVATE_TAG_RE = re.compile(r'\([0-9A-Fa-f]{4},xx[0-9A-Fa-f]{2}\)')


class GenerationError(Exception):
    pass


def Require(condition, message):
    if not condition:
        raise GenerationError(message)


def CellText(element):
    """The text of a cell, whitespace collapsed (olinks and other empty elements give nothing)."""
    return ' '.join(''.join(element.itertext()).split())


def FindTable(root, xmlId):
    for table in root.iter(DOCBOOK + 'table'):
        if table.get(XML_ID) == xmlId:
            return table
    raise GenerationError('table %s not found in %s' % (xmlId, PART15))


def ReadTable(root, xmlId, columns):
    """(header cells or None, body rows) of a DocBook table, each cell as collapsed text."""
    table = FindTable(root, xmlId)
    thead = table.find(DOCBOOK + 'thead')
    tbody = table.find(DOCBOOK + 'tbody')
    Require(tbody is not None, 'table %s has no tbody' % xmlId)
    header = None
    if thead is not None:
        headerRows = thead.findall(DOCBOOK + 'tr')
        Require(len(headerRows) == 1, 'table %s: expected one header row' % xmlId)
        header = [CellText(th) for th in headerRows[0]]
    rows = []
    for tr in tbody.findall(DOCBOOK + 'tr'):
        cells = []
        for td in tr:
            Require(td.tag in (DOCBOOK + 'td', DOCBOOK + 'th'), 'table %s: unexpected %s' % (xmlId, td.tag))
            Require(td.get('colspan', '1') == '1' and td.get('rowspan', '1') == '1',
                    'table %s: spans are not supported' % xmlId)
            cells.append(CellText(td))
        Require(len(cells) == columns, 'table %s: row with %d cells instead of %d'
                % (xmlId, len(cells), columns))
        rows.append(cells)
    return header, rows


def ReadEdition(root):
    subtitle = root.find(DOCBOOK + 'subtitle')
    Require(subtitle is not None, 'no <subtitle> in %s' % PART15)
    match = re.match(r'DICOM PS3\.15 (\d{4}[a-z]) ', CellText(subtitle))
    Require(match is not None, 'cannot read the edition from the subtitle "%s"' % CellText(subtitle))
    return match.group(1)


def YesNo(text, where):
    Require(text in ('Y', 'N'), '%s: expected Y or N, got "%s"' % (where, text))
    return text == 'Y'


def ExtractAttributes(root, edition):
    """Table E.1-1, every body row, in document order."""
    header, rows = ReadTable(root, 'table_E.1-1', len(E11_COLUMNS))
    Require(header == [c[0] for c in E11_COLUMNS], 'Table E.1-1: unexpected header %r' % header)
    attributes = []
    for i, cells in enumerate(rows):
        where = 'Table E.1-1 row %d' % (i + 1)
        name, tag = cells[0], cells[1]
        Require(name != '', where + ': empty name')
        Require(TAG_RE.fullmatch(tag) is not None or tag == PRIVATE_ROW_TAG,
                '%s: unexpected tag "%s"' % (where, tag))
        basic = cells[4]
        Require(basic in ACTION_CODES, '%s: unexpected basic profile action "%s"' % (where, basic))
        options = collections.OrderedDict()
        for column in range(E11_OPTION_COLUMNS, len(E11_COLUMNS)):
            value = cells[column]
            if value != '':
                Require(value in ACTION_CODES, '%s: unexpected option action "%s"' % (where, value))
                options[E11_COLUMNS[column][1]] = value
        attributes.append(collections.OrderedDict([
            ('Name', name),
            ('Tag', tag),
            ('Retired', YesNo(cells[2], where)),
            ('InStdCompIOD', YesNo(cells[3], where)),
            ('Basic', basic),
            ('Options', options),
        ]))
    return collections.OrderedDict([
        ('Edition', edition),
        ('Source', 'DICOM PS3.15 %s Table E.1-1' % edition),
        ('Attributes', attributes),
    ])


def ExtractActionCodes(root, edition):
    """Table E.1-1a."""
    # This table has no header row: Action Code, Meaning.
    header, rows = ReadTable(root, 'table_E.1-1a', 2)
    Require(header is None, 'Table E.1-1a: unexpected header %r' % header)
    codes = []
    for cells in rows:
        Require(cells[0] in ACTION_CODES, 'Table E.1-1a: unknown action code "%s"' % cells[0])
        Require(cells[1] != '', 'Table E.1-1a: empty meaning for %s' % cells[0])
        codes.append(collections.OrderedDict([('Code', cells[0]), ('Meaning', cells[1])]))
    return collections.OrderedDict([
        ('Edition', edition),
        ('Source', 'DICOM PS3.15 %s Table E.1-1a' % edition),
        ('ActionCodes', codes),
    ])


def ExtractSafePrivate(root, edition):
    """Table E.3.10-1."""
    header, rows = ReadTable(root, 'table_E.3.10-1', len(E3101_COLUMNS))
    Require(header == [c[0] for c in E3101_COLUMNS], 'Table E.3.10-1: unexpected header %r' % header)
    attributes = []
    for i, cells in enumerate(rows):
        where = 'Table E.3.10-1 row %d' % (i + 1)
        Require(SAFE_PRIVATE_TAG_RE.fullmatch(cells[0]) is not None,
                '%s: unexpected tag "%s"' % (where, cells[0]))
        Require(cells[1] != '', where + ': empty private creator')
        attributes.append(collections.OrderedDict(
            (key, cells[column]) for column, (_, key) in enumerate(E3101_COLUMNS)))
    return collections.OrderedDict([
        ('Edition', edition),
        ('Source', 'DICOM PS3.15 %s Table E.3.10-1' % edition),
        ('Attributes', attributes),
    ])


def ExtractMethodCodes(standardDir):
    """CID 7050 from the verbatim FHIR ValueSet (PS3.16 is not in the DocBook of PS3.15)."""
    with open(os.path.join(standardDir, CID_7050_FHIR), encoding='utf-8') as f:
        valueSet = json.load(f)
    Require(valueSet.get('description') == 'De-identification Method', 'CID 7050: unexpected ValueSet')
    uids = [i['value'] for i in valueSet.get('identifier', []) if i.get('value', '').startswith('urn:oid:')]
    Require(len(uids) == 1, 'CID 7050: no OID')
    uid = uids[0][len('urn:oid:'):]
    version = valueSet['version']
    codes = []
    for include in valueSet['compose']['include']:
        Require(include['system'] == 'http://dicom.nema.org/resources/ontology/DCM',
                'CID 7050: unexpected system %s' % include['system'])
        for concept in include['concept']:
            codes.append(collections.OrderedDict([
                ('CodingSchemeDesignator', 'DCM'),
                ('CodeValue', concept['code']),
                ('CodeMeaning', ' '.join(concept['display'].split())),
            ]))
    return collections.OrderedDict([
        ('ContextGroup', 'CID 7050'),
        ('Name', 'De-identification Method'),
        ('ContextGroupVersion', version),
        ('ContextGroupUID', uid),
        ('Source', 'DICOM PS3.16 CID 7050 De-identification Method (version %s), from the FHIR ValueSet '
                   'dicom-cid-7050-DeidentificationMethod of bvdh/dicom-terminology-in-fhir' % version),
        ('Codes', codes),
    ])


def FormatJson(document, listKey):
    """Deterministic JSON with one list entry per line (diff-friendly)."""
    lines = ['{']
    keys = list(document.keys())
    for k, key in enumerate(keys):
        comma = ',' if k + 1 < len(keys) else ''
        if key == listKey:
            lines.append(' %s: [' % json.dumps(key))
            items = document[key]
            for i, item in enumerate(items):
                lines.append('  %s%s' % (json.dumps(item, ensure_ascii=False, separators=(', ', ': ')),
                                         ',' if i + 1 < len(items) else ''))
            lines.append(' ]' + comma)
        else:
            lines.append(' %s: %s%s' % (json.dumps(key), json.dumps(document[key], ensure_ascii=False), comma))
    lines.append('}')
    return '\n'.join(lines) + '\n'


def Generate(standardDir):
    """file name -> JSON text."""
    root = ET.parse(os.path.join(standardDir, PART15)).getroot()
    edition = ReadEdition(root)
    return {
        ATTRIBUTES_FILE: FormatJson(ExtractAttributes(root, edition), 'Attributes'),
        ACTION_CODES_FILE: FormatJson(ExtractActionCodes(root, edition), 'ActionCodes'),
        SAFE_PRIVATE_FILE: FormatJson(ExtractSafePrivate(root, edition), 'Attributes'),
        METHOD_CODES_FILE: FormatJson(ExtractMethodCodes(standardDir), 'Codes'),
    }


def ReadCsv(standardDir, name):
    path = os.path.join(standardDir, name)
    if not os.path.exists(path):
        return None
    with open(path, encoding='utf-8', newline='') as f:
        return list(csv.reader(f))[1:]


def Verify(files, standardDir):
    """Row counts, basic-profile counts, and agreement with the CSV extractions of SOURCES.md."""
    attributes = json.loads(files[ATTRIBUTES_FILE])['Attributes']
    actionCodes = json.loads(files[ACTION_CODES_FILE])['ActionCodes']
    safePrivate = json.loads(files[SAFE_PRIVATE_FILE])['Attributes']
    methodCodes = json.loads(files[METHOD_CODES_FILE])['Codes']
    counts = {ATTRIBUTES_FILE: len(attributes), ACTION_CODES_FILE: len(actionCodes),
              SAFE_PRIVATE_FILE: len(safePrivate), METHOD_CODES_FILE: len(methodCodes)}
    Require(counts == EXPECTED_COUNTS, 'row counts %r, expected %r' % (counts, EXPECTED_COUNTS))
    basic = dict(collections.Counter(a['Basic'] for a in attributes))
    Require(basic == EXPECTED_BASIC_COUNTS, 'basic profile counts %r, expected %r' % (basic, EXPECTED_BASIC_COUNTS))
    Require([c['Code'] for c in actionCodes] == ACTION_CODES, 'Table E.1-1a codes differ')
    Require([c['CodeValue'] for c in methodCodes] == [str(v) for v in range(113100, 113113)],
            'CID 7050 code values differ')

    csvRows = ReadCsv(standardDir, 'table_E.1-1_2026c.csv')
    if csvRows is not None:
        mine = []
        for a in attributes:
            row = [a['Name'], a['Tag'], 'Y' if a['Retired'] else 'N', 'Y' if a['InStdCompIOD'] else 'N', a['Basic']]
            row += [a['Options'].get(key, '') for _, key in E11_COLUMNS[E11_OPTION_COLUMNS:]]
            mine.append(row)
        Require(mine == csvRows, 'Table E.1-1 differs from table_E.1-1_2026c.csv')
    csvRows = ReadCsv(standardDir, 'table_E.1-1a_2026c.csv')
    if csvRows is not None:
        Require([[c['Code'], c['Meaning']] for c in actionCodes] == csvRows,
                'Table E.1-1a differs from table_E.1-1a_2026c.csv')
    csvRows = ReadCsv(standardDir, 'table_E.3.10-1_2026c.csv')
    if csvRows is not None:
        Require([[a[key] for _, key in E3101_COLUMNS] for a in safePrivate] == csvRows,
                'Table E.3.10-1 differs from table_E.3.10-1_2026c.csv')
    csvRows = ReadCsv(standardDir, CID_7050_CSV)
    if csvRows is not None:
        Require([[c['CodingSchemeDesignator'], c['CodeValue'], c['CodeMeaning']] for c in methodCodes] == csvRows,
                'CID 7050 differs from cid_7050.csv')


def Write(files, outputDir):
    os.makedirs(outputDir, exist_ok=True)
    for name in OUTPUT_FILES:
        with open(os.path.join(outputDir, name), 'w', encoding='utf-8', newline='\n') as f:
            f.write(files[name])


def Check(standardDir, profilesDir):
    """Regenerates into a temporary directory and compares byte for byte with Profiles/."""
    with tempfile.TemporaryDirectory() as tmp:
        files = Generate(standardDir)
        Verify(files, standardDir)
        Write(files, tmp)
        problems = []
        for name in OUTPUT_FILES:
            committed = os.path.join(profilesDir, name)
            if not os.path.exists(committed):
                problems.append('%s: missing from %s' % (name, profilesDir))
            elif not filecmp.cmp(committed, os.path.join(tmp, name), shallow=False):
                with open(committed, encoding='utf-8', errors='replace') as f:
                    old = f.read().splitlines()
                new = files[name].splitlines()
                differing = sum(1 for a, b in zip(old, new) if a != b) + abs(len(old) - len(new))
                first = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
                problems.append('%s: differs from the standard (%d of %d lines, first at line %d)'
                                % (name, differing, len(new), first + 1))
        return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--standard', default=DEFAULT_STANDARD,
                        help='directory with %s and the CID 7050 ValueSet (default: %%(default)s)' % PART15)
    parser.add_argument('--output', default=DEFAULT_OUTPUT, help='the Profiles directory (default: %(default)s)')
    parser.add_argument('--check', action='store_true',
                        help='verify that the Profiles directory is exactly what the standard gives')
    args = parser.parse_args()

    try:
        if args.check:
            if not os.path.exists(os.path.join(args.standard, PART15)):
                print('skipped: %s not present' % os.path.relpath(args.standard, REPO_ROOT))
                return 0
            problems = Check(args.standard, args.output)
            if problems:
                print('Profiles do not match the standard; run Resources/GenerateProfiles.py to regenerate:')
                for p in problems:
                    print('  ' + p)
                return 1
            print('ok: %s match %s (%s)' % (', '.join(OUTPUT_FILES), PART15,
                                            ', '.join('%d' % EXPECTED_COUNTS[n] for n in OUTPUT_FILES)))
            return 0

        files = Generate(args.standard)
        Verify(files, args.standard)
        Write(files, args.output)
        print('wrote %s to %s' % (', '.join(OUTPUT_FILES), args.output))
        return 0
    except (GenerationError, OSError, ET.ParseError, KeyError, ValueError) as e:
        print('error: %s' % e, file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
