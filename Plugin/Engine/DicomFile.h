// Reading and writing whole DICOM files (Part 10) in memory with DCMTK.
#pragma once

#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>

#include <memory>
#include <string>

namespace Deid
{
  // Parses a Part 10 file (or a raw dataset) from memory. Throws
  // DeidError(BadInput) with a reason, never crashes, for non-DICOM or
  // truncated input, and for sequences nested deeper than the maximum
  // nesting depth (NestingDepth.h; the parse runs on a large stack, so any
  // caller thread will do). The returned object owns a copy of the data.
  std::unique_ptr<DcmFileFormat> ParseDicom(const void* buffer, size_t size);
  std::unique_ptr<DcmFileFormat> ParseDicom(const void* buffer, size_t size, unsigned int maxDepth);

  // Writes a Part 10 file, keeping the original transfer syntax when possible
  // (on a large stack).
  std::string WriteDicom(DcmFileFormat& file);

  // Convenience for tests and tools.
  std::unique_ptr<DcmFileFormat> ReadDicomFile(const std::string& path);
}
