// Values that DCMTK leaves in the caller's memory instead of copying them.
//
// Parsing a file from a file, DCMTK defers the values longer than a limit:
// it remembers where they are and reads them only when asked (PS3.5 7.1:
// the Value Length tells how far to skip). A plain memory stream cannot be
// re-opened, so DCMTK copies every value. This stream can: it re-opens the
// same memory at the offset of the value, so that a large value (the pixel
// data of a multi-frame instance) stays where it is, is read only if the
// engine needs it, and is streamed from there by the writer (DcmWriteCache).
// The memory must outlive the data set and every copy made from it.
#pragma once

#include "NestingDepth.h"

#include <dcmtk/dcmdata/dcistrma.h>

#include <cstddef>

namespace Deid
{
  // A depth-guarded memory stream (NestingDepth.h) that DCMTK may skip
  // values in and re-open later, as it does with a file stream. Once a
  // compression filter (deflate) is installed, offsets no longer match the
  // input bytes: no deferred values then, as for DCMTK's file streams.
  class SkippableMemoryStream : public DepthGuardedInputStream
  {
  private:
    const char* buffer_;
    offile_off_t size_;
    bool compressed_ = false;

  public:
    SkippableMemoryStream(const void* buffer, size_t size);

    OFCondition installCompressionFilter(E_StreamCompression filterType) override;
    DcmInputStreamFactory* newFactory() const override;
  };
}
