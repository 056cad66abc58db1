// Reading and writing whole DICOM files (Part 10) in memory with DCMTK.
#pragma once

#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>

#include <cstdint>
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

  // As ParseDicom, but values longer than BORROWED_VALUE_LENGTH (the pixel
  // data) are not copied: they stay in "buffer", are read from there only
  // when used, and WriteDicom streams them from there (BorrowedValues.h).
  // "buffer" must outlive the returned object and every element copied
  // from it. This keeps a large instance in memory once, not twice.
  constexpr uint32_t BORROWED_VALUE_LENGTH = 64 * 1024;
  std::unique_ptr<DcmFileFormat> ParseDicomBorrowing(const void* buffer, size_t size);

  // Writes a Part 10 file, keeping the original transfer syntax when possible
  // (on a large stack). The output is measured first and written once into
  // a string of exactly its size (no growing buffer, no second copy);
  // borrowed values are streamed from their buffer, never loaded whole.
  std::string WriteDicom(DcmFileFormat& file);

  // Convenience for tests and tools.
  std::unique_ptr<DcmFileFormat> ReadDicomFile(const std::string& path);
}
