#!/usr/bin/env python3
"""Generates Profiles/Vocabulary.json: the words the text cleaner (action C,
PS3.15 E.3.5 Clean Descriptors, also E.3.4 and E.3.3) may keep in a cleaned
text. Every other word is removed. python3 stdlib only.

Sources (Debian packages installed by Resources/Install.sh):
  - wamerican: /usr/share/dict/american-english, ONLY the all-lowercase entries
    without an apostrophe (capitalised entries are proper names: first names,
    surnames, places), and no single letters;
  - libdcmtk-dev: the code meanings of the DICOM standard and the coding
    schemes DCMTK ships (/usr/include/dcmtk/dcmsr/codes/{dcm,sct,ncit,ucum,
    umls,srt}.h, DSRBasicCodedEntry(value, scheme, meaning)), split into words;
  - libdcmtk17: the keywords of the DICOM data dictionary
    (/usr/share/libdcmtk17/dicom.dic), split into words at CamelCase;
  - Resources/ImagingVocabulary.txt: the curated protocol terms, units,
    abbreviations and body parts of this repository.

A word is a run of ASCII letters and digits, lowercase, accents folded
(the engine folds the text the same way before looking words up). Pure numbers
are not stored (the cleaner decides on numbers by rule).

Format (compact): "Words" is one string, the words sorted and front-coded:
each entry is one letter 'A'+n (n = characters shared with the previous
word, 0..25) followed by the rest of the word; entries separated by spaces.

  GenerateVocabulary.py            regenerate Profiles/Vocabulary.json
  GenerateVocabulary.py --check    verify (ctest VocabularyMatchesSources)
"""

import argparse
import json
import os
import re
import sys
import unicodedata

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(SCRIPT_DIR)
OUTPUT = os.path.join(REPO_ROOT, 'Profiles', 'Vocabulary.json')
CURATED = os.path.join(SCRIPT_DIR, 'ImagingVocabulary.txt')
WAMERICAN = '/usr/share/dict/american-english'
MEDICAL = '/usr/share/hunspell/en_med_glut.dic'
DCMTK_CODES = '/usr/include/dcmtk/dcmsr/codes'
CODE_FILES = ['dcm.h', 'sct.h', 'ncit.h', 'ucum.h', 'umls.h', 'srt.h']
DICOM_DIC = '/usr/share/libdcmtk17/dicom.dic'

EXPECTED_MIN_WORDS = 100000

CODED_ENTRY = re.compile(r'DSRBasicCodedEntry\("(?:[^"\\]|\\.)*",\s*"[^"]*",\s*"((?:[^"\\]|\\.)*)"\)')
CAMEL = re.compile(r'[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+')


def Fold(text):
    """Lowercase ASCII with accents removed (as Plugin/Engine/TextFolding.cpp)."""
    decomposed = unicodedata.normalize('NFKD', text)
    return ''.join(c for c in decomposed if not unicodedata.combining(c)).lower()


def Words(text):
    return [w for w in re.split(r'[^a-z0-9]+', Fold(text)) if w]


def Keep(word):
    return len(word) >= 1 and not word.isdigit()


def Generate():
    words = set()
    sources = []

    count = 0
    with open(WAMERICAN, encoding='utf-8') as f:
        for line in f:
            entry = line.strip()
            # Capitalised entries are proper names; "'s" entries are possessives.
            if not entry or entry != entry.lower() or "'" in entry or len(entry) < 2:
                continue
            folded = Fold(entry)
            if re.fullmatch(r'[a-z]+', folded):
                words.add(folded)
                count += 1
    sources.append('wamerican %s: %d all-lowercase entries' % (WAMERICAN, count))

    count = 0
    with open(MEDICAL, encoding='utf-8') as f:
        for line in f:
            entry, _, flags = line.strip().partition('/')
            if not re.fullmatch(r'[a-z]{2,}', entry):
                continue
            words.add(entry)
            count += 1
            if 'S' in flags:   # the plural of en_US.aff's S rule
                if re.search(r'[^aeiou]y$', entry):
                    words.add(entry[:-1] + 'ies')
                elif re.search(r'(s|x|z|ch|sh)$', entry):
                    words.add(entry + 'es')
                else:
                    words.add(entry + 's')
    sources.append('hunspell-en-med %s: %d all-lowercase entries' % (MEDICAL, count))

    for name in CODE_FILES:
        path = os.path.join(DCMTK_CODES, name)
        meanings = CODED_ENTRY.findall(open(path, encoding='latin-1').read())
        for meaning in meanings:
            for w in Words(meaning):
                if Keep(w) and len(w) >= 2:
                    words.add(w)
        sources.append('DCMTK %s: %d code meanings' % (path, len(meanings)))

    keywords = 0
    with open(DICOM_DIC, encoding='latin-1') as f:
        for line in f:
            if line.startswith('#') or not line.strip():
                continue
            columns = line.split('\t')
            if len(columns) < 3:
                continue
            keywords += 1
            for part in CAMEL.findall(columns[2]):
                w = part.lower()
                if Keep(w) and len(w) >= 2:
                    words.add(w)
    sources.append('DCMTK %s: %d keywords' % (DICOM_DIC, keywords))

    curated = 0
    with open(CURATED, encoding='utf-8') as f:
        for line in f:
            line = line.split('#', 1)[0]
            for w in Words(line):
                if Keep(w):
                    words.add(w)
                    curated += 1
    sources.append('Resources/ImagingVocabulary.txt: %d terms' % curated)

    ordered = sorted(words)
    if len(ordered) < EXPECTED_MIN_WORDS:
        raise ValueError('only %d words: a source is missing or truncated' % len(ordered))
    entries = []
    previous = ''
    for w in ordered:
        shared = 0
        while shared < min(len(w), len(previous), 25) and w[shared] == previous[shared]:
            shared += 1
        entries.append(chr(ord('A') + shared) + w[shared:])
        previous = w
    document = {
        'Description': 'Words the text cleaner may keep (PS3.15 E.3.5); generated by Resources/GenerateVocabulary.py',
        'Sources': sources,
        'Count': len(ordered),
        'Format': "sorted, front-coded: per word one letter 'A'+n (n characters shared with the previous word), then the rest; space-separated",
        'Words': ' '.join(entries),
    }
    return json.dumps(document, indent=1, ensure_ascii=True) + '\n', len(ordered)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--check', action='store_true', help='verify that Profiles/Vocabulary.json is current')
    args = parser.parse_args()
    try:
        text, count = Generate()
    except (OSError, ValueError) as e:
        print('error: %s' % e, file=sys.stderr)
        return 1
    if args.check:
        committed = open(OUTPUT, encoding='utf-8').read() if os.path.exists(OUTPUT) else None
        if committed != text:
            print('Profiles/Vocabulary.json does not match its sources; run Resources/GenerateVocabulary.py')
            return 1
        print('ok: Profiles/Vocabulary.json matches its sources (%d words)' % count)
        return 0
    with open(OUTPUT, 'w', encoding='utf-8', newline='\n') as f:
        f.write(text)
    print('wrote %s (%d bytes, %d words)' % (OUTPUT, len(text), count))
    return 0


if __name__ == '__main__':
    sys.exit(main())
