// A guard against element lengths larger than the input: see DeclaredLengths.h.
#include "DeclaredLengths.h"
#include "DeidError.h"
#include "NestingDepth.h"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>

#include <memory>
#include <new>

namespace Deid
{
  namespace
  {
    // Re-opens the same memory at a given offset: what DCMTK needs to defer
    // a value (as it does for a file) instead of allocating it at once.
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

    // A memory stream that DCMTK may skip values in (like a file stream).
    // Once a compression filter (deflate) is installed, offsets no longer
    // match the input bytes: no factory then, as for DCMTK's file streams.
    // Depth-guarded as ParseDicom's stream: DCMTK's reader recurses per
    // nested sequence, and this pass runs before the depth is known.
    class SkippableMemoryStream : public DepthGuardedInputStream
    {
    private:
      const char* buffer_;
      offile_off_t size_;
      bool compressed_ = false;

    public:
      SkippableMemoryStream(const void* buffer, size_t size) :
        DepthGuardedInputStream(buffer, size),
        buffer_(static_cast<const char*>(buffer)),
        size_(static_cast<offile_off_t>(size))
      {
      }

      OFCondition installCompressionFilter(E_StreamCompression filterType) override
      {
        compressed_ = true;
        return DepthGuardedInputStream::installCompressionFilter(filterType);
      }

      DcmInputStreamFactory* newFactory() const override
      {
        if (compressed_)
        {
          return nullptr;
        }
        return new MemoryStreamFactory(buffer_, size_, tell());
      }
    };
  }

  void CheckDeclaredLengths(const void* buffer, size_t size, E_TransferSyntax dataSetSyntax)
  {
    if (buffer == nullptr || size == 0)
    {
      return;
    }

    OFCondition status;
    bool tooDeep = false;
    try
    {
      SkippableMemoryStream stream(buffer, size);
      if (dataSetSyntax == EXS_Unknown)
      {
        DcmFileFormat file;
        file.transferInit();
        status = file.read(stream, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
        file.transferEnd();
      }
      else
      {
        DcmDataset dataset;
        dataset.transferInit();
        status = dataset.read(stream, dataSetSyntax, EGL_noChange, DCM_MaxReadLength);
        dataset.transferEnd();
      }
      tooDeep = stream.Exhausted();
    }
    catch (std::bad_alloc&)
    {
      throw DeidError(ErrorCode::BadInput, "Cannot parse DICOM: invalid element length");
    }
    catch (std::exception&)
    {
      return;   // ParseDicom reports it
    }

    if (tooDeep)
    {
      return;   // nested too deep for this pass: the guarded parse refuses it
    }

    // The whole input is there (end of stream set): DCMTK asking for more
    // bytes (EC_StreamNotifyClient), or finding a value to skip longer than
    // the rest (EC_InvalidStream), means a length goes past the end.
    if (status == EC_StreamNotifyClient || status == EC_InvalidStream)
    {
      throw DeidError(ErrorCode::BadInput,
                      "Cannot parse DICOM: truncated input (an element, item or fragment declares "
                      "a value longer than the rest of the input)");
    }
  }
}
