// Reading and writing Part 10 files in memory with DCMTK (PS3.10 7.1).
#include "DicomFile.h"
#include "BorrowedValues.h"
#include "DeclaredLengths.h"
#include "DeidError.h"
#include "LargeStack.h"
#include "NestingDepth.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcostrma.h>
#include <dcmtk/dcmdata/dcwcache.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <new>

namespace Deid
{
  namespace
  {
    bool HasPart10Magic(const void* buffer, size_t size)
    {
      return size >= 132 && memcmp(static_cast<const char*>(buffer) + 128, "DICM", 4) == 0;
    }

    // The end of DCMTK's output stream: counts the bytes (no destination)
    // or copies them into a buffer of known size.
    class SizedConsumer : public DcmConsumer
    {
    private:
      char* destination_;
      size_t capacity_;
      size_t written_ = 0;
      bool overflow_ = false;

    public:
      SizedConsumer(char* destination, size_t capacity) :
        destination_(destination), capacity_(capacity)
      {
      }

      size_t GetWritten() const { return written_; }
      bool HasOverflown() const { return overflow_; }

      OFBool good() const override { return OFTrue; }
      OFCondition status() const override { return EC_Normal; }
      OFBool isFlushed() const override { return OFTrue; }
      offile_off_t avail() const override { return static_cast<offile_off_t>(1) << 30; }
      void flush() override {}

      offile_off_t write(const void* buf, offile_off_t buflen) override
      {
        const size_t length = static_cast<size_t>(buflen);
        if (destination_ != nullptr)
        {
          if (written_ + length > capacity_)
          {
            overflow_ = true;   // reported by Encode(); never write past the end
          }
          else if (length > 0)
          {
            memcpy(destination_ + written_, buf, length);
          }
        }
        written_ += length;
        return buflen;
      }
    };

    // DcmOutputStream's constructor takes its consumer: build it first.
    struct ConsumerHolder
    {
      SizedConsumer consumer;
      ConsumerHolder(char* destination, size_t capacity) : consumer(destination, capacity) {}
    };

    class SizedOutputStream : private ConsumerHolder, public DcmOutputStream
    {
    public:
      SizedOutputStream(char* destination, size_t capacity) :
        ConsumerHolder(destination, capacity),
        DcmOutputStream(&consumer)
      {
      }

      const SizedConsumer& GetConsumer() const { return consumer; }
    };

    // Encodes the file into "destination" (nullptr: only counts); returns
    // the number of bytes. Values left in the input (BorrowedValues.h) go
    // through DCMTK's write cache, 64 KB at a time.
    size_t Encode(DcmFileFormat& file, E_TransferSyntax xfer, char* destination, size_t capacity)
    {
      SizedOutputStream stream(destination, capacity);
      DcmWriteCache cache;
      OFCondition status;

      file.transferInit();
      do
      {
        status = file.write(stream, xfer, EET_ExplicitLength, &cache, EGL_recalcGL, EPD_withoutPadding);
      }
      while (status == EC_StreamNotifyClient && stream.good());
      file.transferEnd();

      // Deflated transfer syntax: the compression filter may still hold data.
      for (unsigned int i = 0; status.good() && !stream.isFlushed(); i++)
      {
        if (i > 1000)
        {
          throw DeidError(ErrorCode::Internal, "Cannot flush the DICOM output stream");
        }
        stream.flush();
      }

      if (status.bad())
      {
        throw DeidError(ErrorCode::Internal, std::string("Cannot write DICOM: ") + status.text());
      }
      if (stream.GetConsumer().HasOverflown())
      {
        throw DeidError(ErrorCode::Internal, "Cannot write DICOM: the output changed size between two passes");
      }
      return stream.GetConsumer().GetWritten();
    }

    // Encodes the file in memory: measured first, then written once.
    std::string EncodeFile(DcmFileFormat& file, E_TransferSyntax xfer)
    {
      const size_t size = Encode(file, xfer, nullptr, 0);
      std::string result;
      result.resize(size);
      if (Encode(file, xfer, &result[0], size) != size)
      {
        throw DeidError(ErrorCode::Internal, "Cannot write DICOM: the output changed size between two passes");
      }

      // PS3.15 E.1: the preamble may hold identifying data (e.g. a TIFF header);
      // DCMTK writes back the preamble it read, so write 128 zero bytes.
      if (result.size() >= 132 && result.compare(128, 4, "DICM") == 0)
      {
        std::fill(result.begin(), result.begin() + 128, '\0');
      }

      return result;
    }
  }

  // ParseDicom on the large stack: a deep tree is destroyed here when refused.
  static std::unique_ptr<DcmFileFormat> ParseOnLargeStack(const void* buffer, size_t size, unsigned int maxDepth,
                                                          bool borrow)
  {
    if (!borrow)
    {
      CheckDeclaredLengths(buffer, size);   // before DCMTK allocates a declared length
    }
    // Borrowing, the parse is its own check (no second pass over the
    // input): DCMTK defers every value longer than BORROWED_VALUE_LENGTH and
    // finds a length beyond the input when it skips it, so it never
    // allocates more than BORROWED_VALUE_LENGTH for a declared length.
    const bool part10 = HasPart10Magic(buffer, size);
    std::unique_ptr<DcmFileFormat> file(new DcmFileFormat);

    try
    {
      // Ends the input if DCMTK recurses too deep; when borrowing, lets DCMTK
      // leave the long values in "buffer".
      std::unique_ptr<DepthGuardedInputStream> input(
        borrow ? new SkippableMemoryStream(buffer, size) : new DepthGuardedInputStream(buffer, size));
      DepthGuardedInputStream& stream = *input;

      file->transferInit();
      OFCondition status = file->read(stream, EXS_Unknown, EGL_noChange,
                                      borrow ? BORROWED_VALUE_LENGTH : DCM_MaxReadLength);
      file->transferEnd();

      if (stream.Exhausted())
      {
        throw DeidError(ErrorCode::BadInput, "Cannot parse DICOM: sequences nested more than " +
                        std::to_string(maxDepth) + " levels deep (the maximum nesting depth)");   // as CheckNestingDepth
      }

      if (borrow && (status == EC_StreamNotifyClient || status == EC_InvalidStream))
      {
        // The whole input is there: DCMTK asking for more bytes, or finding a
        // value to skip longer than the rest, means a length goes past the
        // end (as CheckDeclaredLengths reports it).
        throw DeidError(ErrorCode::BadInput,
                        "Cannot parse DICOM: truncated input (an element, item or fragment declares "
                        "a value longer than the rest of the input)");
      }
      if (status.bad())
      {
        throw DeidError(ErrorCode::BadInput, std::string("Cannot parse DICOM: ") + status.text());
      }

      if (!stream.eos())
      {
        throw DeidError(ErrorCode::BadInput, "Cannot parse DICOM: truncated input");
      }

      // Without borrowing, nothing may be left pending in "buffer".
      if (!borrow)
      {
        status = file->loadAllDataIntoMemory();
        if (status.bad())
        {
          throw DeidError(ErrorCode::BadInput, std::string("Cannot load DICOM values: ") + status.text());
        }
      }

      CheckNestingDepth(*file, maxDepth, "Cannot parse DICOM");
    }
    catch (std::bad_alloc&)
    {
      throw DeidError(ErrorCode::BadInput, "Cannot parse DICOM: invalid element length");
    }
    catch (DeidError&)
    {
      throw;
    }
    catch (std::exception&)
    {
      // DCMTK can throw from the standard library on corrupted input (e.g. a
      // broken directory record). The message is not forwarded: never data.
      throw DeidError(ErrorCode::BadInput, "Cannot parse DICOM: corrupted input");
    }

    DcmDataset* dataset = file->getDataset();
    if (dataset == nullptr || dataset->card() == 0)
    {
      throw DeidError(ErrorCode::BadInput, "Not a DICOM file: no data set");
    }

    if (!part10)
    {
      // A raw data set (no preamble): DCMTK happily reads almost any bytes as
      // implicit VR elements, so require the identifying attributes of a
      // composite instance.
      if (!dataset->tagExists(DCM_SOPClassUID) &&
          !dataset->tagExists(DCM_SOPInstanceUID) &&
          !dataset->tagExists(DCM_StudyInstanceUID))
      {
        throw DeidError(ErrorCode::BadInput, "Not a DICOM file: no DICM prefix and no SOP/Study Instance UID");
      }
    }

    return file;
  }

  std::unique_ptr<DcmFileFormat> ParseDicom(const void* buffer, size_t size)
  {
    return ParseDicom(buffer, size, GetMaximumNestingDepth());
  }

  static std::unique_ptr<DcmFileFormat> Parse(const void* buffer, size_t size, unsigned int maxDepth, bool borrow)
  {
    if (buffer == nullptr || size == 0)
    {
      throw DeidError(ErrorCode::BadInput, "Empty input: not a DICOM file");
    }

    std::unique_ptr<DcmFileFormat> result;
    LargeStack::Run([&]() { result = ParseOnLargeStack(buffer, size, maxDepth, borrow); });
    return result;
  }

  std::unique_ptr<DcmFileFormat> ParseDicom(const void* buffer, size_t size, unsigned int maxDepth)
  {
    return Parse(buffer, size, maxDepth, false);
  }

  std::unique_ptr<DcmFileFormat> ParseDicomBorrowing(const void* buffer, size_t size)
  {
    return Parse(buffer, size, GetMaximumNestingDepth(), true);
  }

  static std::string WriteOnLargeStack(DcmFileFormat& file)
  {
    DcmDataset* dataset = file.getDataset();
    if (dataset == nullptr)
    {
      throw DeidError(ErrorCode::Internal, "No data set to write");
    }

    // Keep the transfer syntax of the input (PS3.15 does not ask for a change);
    // if it is unknown, fall back to Explicit VR Little Endian.
    E_TransferSyntax xfer = dataset->getOriginalXfer();
    if (xfer == EXS_Unknown)
    {
      xfer = EXS_LittleEndianExplicit;
    }

    DcmXfer xferInfo(xfer);
    if (!dataset->chooseRepresentation(xfer, nullptr).good() ||
        !dataset->canWriteXfer(xfer))
    {
      xfer = EXS_LittleEndianExplicit;
      if (!dataset->chooseRepresentation(xfer, nullptr).good() || !dataset->canWriteXfer(xfer))
      {
        throw DeidError(ErrorCode::Internal, "Cannot encode the data set in its transfer syntax");
      }
    }

    OFCondition status = file.validateMetaInfo(xfer);
    if (status.bad())
    {
      throw DeidError(ErrorCode::Internal, std::string("Cannot update the file meta information: ") + status.text());
    }

    file.removeInvalidGroups();

    try
    {
      return EncodeFile(file, xfer);
    }
    catch (DeidError&)
    {
      throw;
    }
    catch (std::exception&)
    {
      throw DeidError(ErrorCode::Internal, "Cannot write DICOM: unexpected error");
    }
  }

  std::string WriteDicom(DcmFileFormat& file)
  {
    std::string result;
    LargeStack::Run([&]() { result = WriteOnLargeStack(file); });   // DCMTK's writer recurses too
    return result;
  }

  std::unique_ptr<DcmFileFormat> ReadDicomFile(const std::string& path)
  {
    std::ifstream input(path, std::ios::binary);
    if (!input)
    {
      throw DeidError(ErrorCode::BadInput, "Cannot open file: " + path);
    }

    std::string content((std::istreambuf_iterator<char>(input)), std::istreambuf_iterator<char>());
    return ParseDicom(content.data(), content.size());
  }
}
