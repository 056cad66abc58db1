// A guard against element lengths larger than the input: see DeclaredLengths.h.
#include "DeclaredLengths.h"
#include "BorrowedValues.h"
#include "DeidError.h"
#include "NestingDepth.h"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <memory>
#include <new>

namespace Deid
{
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
