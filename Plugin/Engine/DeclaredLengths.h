// A guard against element lengths larger than the input (PS3.5 7.1.1: the
// Value Length field). Parsing from memory, DCMTK 3.6.7 allocates the
// declared length of a value before it reads it (new(nothrow), up to 4 GB
// for 0xFFFFFFF0), because a memory stream cannot defer the value: a 30 KB
// upload could make the server reserve gigabytes before the truncation shows.
#pragma once

#include <dcmtk/dcmdata/dcxfer.h>

#include <cstddef>

namespace Deid
{
  // Reads the structure of the input with DCMTK, skipping values longer than
  // 4 KB instead of loading them, so that an element, item or fragment whose
  // declared length goes past the end of the input is found before anything
  // is allocated for it. Throws DeidError(BadInput) in that case; any other
  // problem is left to ParseDicom() (which gives its own clear error). The
  // deflated part of a Deflated Explicit VR Little Endian file cannot be
  // skipped and is not checked. With a transfer syntax, the input is a bare
  // data set in that syntax (e.g. a decrypted Encrypted Attributes Data Set);
  // otherwise a Part 10 file or a data set whose syntax DCMTK detects.
  void CheckDeclaredLengths(const void* buffer, size_t size,
                            E_TransferSyntax dataSetSyntax = EXS_Unknown);
}
