// Clean Pixel Data (PS3.15 E.3.1) by configured regions, in every encoding
// DCMTK can decode.
#include "PixelCleaner.h"

#include "DeidError.h"
#include "PixelBlackout.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcelem.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcrleerg.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpeg/djencode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/dcmjpls/djencode.h>

#include <mutex>

namespace Deid
{
  void RegisterPixelCodecs()
  {
    static std::once_flag once;
    std::call_once(once, []()
    {
      // Each registration is idempotent (a process-wide flag in DCMTK), so
      // codecs already registered by Orthanc are not registered twice.
      DcmRLEDecoderRegistration::registerCodecs();
      DcmRLEEncoderRegistration::registerCodecs();
      DJDecoderRegistration::registerCodecs();   // YCbCr converted to RGB (PhotometricInterpretation updated)
      DJEncoderRegistration::registerCodecs();
      DJLSDecoderRegistration::registerCodecs();
      // Raw (not "cooked") encoding: the stored values are encoded exactly,
      // without DicomImage.
      DJLSEncoderRegistration::registerCodecs(0, 0, 0, 0, OFFalse /* preferCookedEncoding */);
    });
  }

  namespace
  {
    // Lossless encapsulated syntaxes that DCMTK can write back.
    bool IsLosslessReencodable(E_TransferSyntax xfer)
    {
      return xfer == EXS_RLELossless || xfer == EXS_JPEGProcess14 || xfer == EXS_JPEGProcess14SV1 ||
        xfer == EXS_JPEGLSLossless;
    }

    std::string Describe(E_TransferSyntax xfer)
    {
      DcmXfer info(xfer);
      return std::string(info.getXferName()) + " (" + info.getXferID() + ")";
    }
  }

  PixelCleaningResult RegionPixelCleaner::Clean(DcmDataset& dataset)
  {
    PixelCleaningResult result;
    std::vector<const PixelRegionRule*> matching = rules_.FindMatching(dataset);
    const bool ocr = ocr_.enabled && MatchesAttributes(ocr_.match, dataset);
    if (matching.empty() && !ocr)
    {
      return result;
    }
    if (!dataset.tagExists(DCM_PixelData, OFFalse))
    {
      if (dataset.tagExists(DCM_FloatPixelData, OFFalse) || dataset.tagExists(DCM_DoubleFloatPixelData, OFFalse))
      {
        throw DeidError(ErrorCode::NotImplemented, "Clean Pixel Data: Float Pixel Data is not handled");
      }
      return result;   // no pixels
    }
    // From the original values, before anything is changed. Never logged.
    const std::vector<std::string> tokens = (ocr && !ocr_.allWords) ? IdentifyingTokens(dataset) :
      std::vector<std::string>();

    const ImageGeometry geometry = GetImageGeometry(dataset);
    std::vector<PixelRectangle> rectangles;
    for (const PixelRegionRule* rule : matching)
    {
      result.rules.push_back(rule->name);
      for (const PixelRectangle& r : PixelRegionRules::Resolve(*rule, geometry.columns, geometry.rows))
      {
        rectangles.push_back(r);
      }
    }

    E_TransferSyntax source = dataset.getOriginalXfer();
    if (source == EXS_Unknown)
    {
      source = EXS_LittleEndianExplicit;
    }
    const DcmXfer sourceInfo(source);
    result.sourceTransferSyntax = sourceInfo.getXferID();

    if (sourceInfo.isEncapsulated())
    {
      RegisterPixelCodecs();
      if (dataset.chooseRepresentation(EXS_LittleEndianExplicit, nullptr).bad() ||
          !dataset.hasRepresentation(EXS_LittleEndianExplicit, nullptr))
      {
        throw DeidError(ErrorCode::NotImplemented, "Clean Pixel Data: the pixel data in " + Describe(source) +
                        " cannot be decoded here, so it cannot be cleaned; the instance is not de-identified");
      }
    }

    if (ocr)
    {
      result.rules.push_back("OCR");
      for (const PixelRectangle& r : DetectTextRegions(dataset, ocr_, tokens))
      {
        rectangles.push_back(r);
      }
      result.ocr = true;
    }
    if (rectangles.empty())
    {
      // OCR found nothing to black out: the pixels are written as they came.
      dataset.removeAllButOriginalRepresentations();
      result.writtenTransferSyntax = result.sourceTransferSyntax;
      result.cleaned = true;
      return result;
    }

    BlackOutNativePixels(dataset, rectangles);
    // The encapsulated original would otherwise be written back uncleaned.
    dataset.removeAllButCurrentRepresentations();

    E_TransferSyntax written = source;
    if (sourceInfo.isEncapsulated())
    {
      written = EXS_LittleEndianExplicit;
      if (IsLosslessReencodable(source) &&
          dataset.chooseRepresentation(source, nullptr).good() && dataset.hasRepresentation(source, nullptr))
      {
        written = source;
        dataset.removeAllButCurrentRepresentations();
      }
      else if (dataset.chooseRepresentation(EXS_LittleEndianExplicit, nullptr).bad())
      {
        throw DeidError(ErrorCode::Internal, "Clean Pixel Data: cannot write the cleaned pixel data");
      }
      if (written == EXS_LittleEndianExplicit && sourceInfo.isLossy())
      {
        result.lossyDecompressed = true;
        dataset.putAndInsertString(DCM_LossyImageCompression, "01");   // PS3.3 C.7.6.1.1.5: once lossy, always lossy
      }
      // The Extended Offset Table (PS3.5 A.4) described the old fragments.
      delete dataset.remove(DcmTagKey(0x7FE0, 0x0001));
      delete dataset.remove(DcmTagKey(0x7FE0, 0x0002));
      dataset.updateOriginalXfer();
      if (dataset.getOriginalXfer() != written)
      {
        throw DeidError(ErrorCode::Internal, "Clean Pixel Data: unexpected transfer syntax after cleaning");
      }
    }

    result.writtenTransferSyntax = DcmXfer(written).getXferID();
    result.regions = rectangles;
    result.cleaned = true;
    return result;
  }
}
