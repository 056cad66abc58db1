// Values left in the caller's memory: see BorrowedValues.h.
#include "BorrowedValues.h"

#include <dcmtk/dcmdata/dcistrmb.h>

namespace Deid
{
  namespace
  {
    // Re-opens the same memory at a given offset: what DCMTK needs to defer
    // a value (as it does for a file) instead of copying it at once.
    class MemoryStreamFactory : public DcmInputStreamFactory
    {
    private:
      const char* buffer_;
      offile_off_t size_;
      offile_off_t offset_;

    public:
      MemoryStreamFactory(const char* buffer, offile_off_t size, offile_off_t offset) :
        buffer_(buffer), size_(size), offset_(offset)
      {
      }

      DcmInputStream* create() const override
      {
        DcmInputBufferStream* stream = new DcmInputBufferStream;
        const offile_off_t offset = (offset_ < size_ ? offset_ : size_);
        stream->setBuffer(buffer_ + offset, size_ - offset);
        stream->setEos();
        return stream;
      }

      DcmInputStreamFactory* clone() const override
      {
        return new MemoryStreamFactory(*this);
      }

      DcmInputStreamFactoryType ident() const override
      {
        return DFT_DcmInputFileStreamFactory;   // "re-openable"; DCMTK has no memory type
      }
    };
  }


  SkippableMemoryStream::SkippableMemoryStream(const void* buffer, size_t size) :
    DepthGuardedInputStream(buffer, size),
    buffer_(static_cast<const char*>(buffer)),
    size_(static_cast<offile_off_t>(size))
  {
  }


  OFCondition SkippableMemoryStream::installCompressionFilter(E_StreamCompression filterType)
  {
    compressed_ = true;
    return DepthGuardedInputStream::installCompressionFilter(filterType);
  }


  DcmInputStreamFactory* SkippableMemoryStream::newFactory() const
  {
    if (compressed_)
    {
      return nullptr;
    }
    return new MemoryStreamFactory(buffer_, size_, tell());
  }
}
