// Reading and writing Part 10 files in memory with DCMTK (PS3.10 7.1).
#include "DicomFile.h"
#include "DeclaredLengths.h"
#include "DeidError.h"
#include "LargeStack.h"
#include "NestingDepth.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <new>
#include <vector>

namespace Deid
{
  namespace
  {
    bool HasPart10Magic(const void* buffer, size_t size)
    {
      return size >= 132 && memcmp(static_cast<const char*>(buffer) + 128, "DICM", 4) == 0;
    }

    // Encodes the file in memory, in chunks.
    std::string EncodeFile(DcmFileFormat& file, E_TransferSyntax xfer)
    {
      OFCondition status;

      // The exact size is only known after writing: write in chunks.
      std::string result;
      std::vector<char> chunk(1024 * 1024);
      DcmOutputBufferStream stream(chunk.data(), static_cast<offile_off_t>(chunk.size()));

      file.transferInit();
      for (;;)
      {
        status = file.write(stream, xfer, EET_ExplicitLength, nullptr,
                            EGL_recalcGL, EPD_withoutPadding);

        void* data = nullptr;
        offile_off_t length = 0;
        stream.flushBuffer(data, length);
        if (length > 0)
        {
          result.append(static_cast<const char*>(data), static_cast<size_t>(length));
        }

        if (status != EC_StreamNotifyClient)
        {
          break;
        }
      }
      file.transferEnd();

      // Deflated transfer syntax: the compression filter may still hold data.
      while (status.good() && !stream.isFlushed())
      {
        stream.flush();
        void* data = nullptr;
        offile_off_t length = 0;
        stream.flushBuffer(data, length);
        if (length > 0)
        {
          result.append(static_cast<const char*>(data), static_cast<size_t>(length));
        }
        else if (!stream.isFlushed())
        {
          throw DeidError(ErrorCode::Internal, "Cannot flush the DICOM output stream");
        }
      }

      if (status.bad())
      {
        throw DeidError(ErrorCode::Internal, std::string("Cannot write DICOM: ") + status.text());
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
  static std::unique_ptr<DcmFileFormat> ParseOnLargeStack(const void* buffer, size_t size, unsigned int maxDepth)
  {
    CheckDeclaredLengths(buffer, size);   // before DCMTK allocates a declared length
    const bool part10 = HasPart10Magic(buffer, size);
    std::unique_ptr<DcmFileFormat> file(new DcmFileFormat);

    try
    {
      DepthGuardedInputStream stream(buffer, size);   // ends the input if DCMTK recurses too deep

      file->transferInit();
      OFCondition status = file->read(stream, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
      file->transferEnd();

      if (stream.Exhausted())
      {
        throw DeidError(ErrorCode::BadInput, "Cannot parse DICOM: sequences nested more than " +
                        std::to_string(maxDepth) + " levels deep (the maximum nesting depth)");   // as CheckNestingDepth
      }

      if (status.bad())
      {
        throw DeidError(ErrorCode::BadInput, std::string("Cannot parse DICOM: ") + status.text());
      }

      if (!stream.eos())
      {
        throw DeidError(ErrorCode::BadInput, "Cannot parse DICOM: truncated input");
      }

      // DCMTK loads all values from a buffer stream; make sure nothing is
      // left pending in memory.
      status = file->loadAllDataIntoMemory();
      if (status.bad())
      {
        throw DeidError(ErrorCode::BadInput, std::string("Cannot load DICOM values: ") + status.text());
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

  std::unique_ptr<DcmFileFormat> ParseDicom(const void* buffer, size_t size, unsigned int maxDepth)
  {
    if (buffer == nullptr || size == 0)
    {
      throw DeidError(ErrorCode::BadInput, "Empty input: not a DICOM file");
    }

    std::unique_ptr<DcmFileFormat> result;
    LargeStack::Run([&]() { result = ParseOnLargeStack(buffer, size, maxDepth); });
    return result;
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
