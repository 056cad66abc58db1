// The interfaces through which the engine obtains replacement values. Each
// operation (a job, a request) owns one set of providers; the engine calls
// them from several threads at once, so implementations must be thread-safe.
// Default implementations live in DefaultProviders.h; the key store supplies
// keyed (HMAC-SHA256) ones that are stable across operations and nodes.
#pragma once

#include "Option.h"
#include "PixelRegions.h"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dctagkey.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace Deid
{
  // Identifies a patient for pseudonyms and date offsets. Holds original
  // values: never log it.
  struct PatientKey
  {
    std::string patientId;         // (0010,0020)
    std::string issuerOfPatientId; // (0010,0021)
    std::string patientName;       // (0010,0010), used only if patientId is empty
  };

  // Action U (PS3.15 E.1-1a): a new UID, the same for the same original
  // within the provider's scope.
  class IUidProvider
  {
  public:
    virtual ~IUidProvider() = default;
    virtual std::string MapUid(const std::string& originalUid) = 0;
  };

  struct Pseudonym
  {
    std::string patientId;
    std::string patientName;
  };

  // Replacement PatientID / PatientName (actions Z/D on them keep the
  // attribute; the provider gives the value).
  class IPseudonymProvider
  {
  public:
    virtual ~IPseudonymProvider() = default;
    virtual Pseudonym GetPseudonym(const PatientKey& patient) = 0;
  };

  // Retain Longitudinal Temporal Information with Modified Dates (E.3.6):
  // one offset in days per patient, so intervals are kept.
  class IDateOffsetProvider
  {
  public:
    virtual ~IDateOffsetProvider() = default;
    virtual int32_t GetOffsetDays(const PatientKey& patient) = 0;
  };

  // One identifying value of the instance being de-identified (PS3.15 E.3.3-E.3.5:
  // a cleaned text must not repeat the instance's own identifying values).
  // Holds an original value: never log it.
  struct IdentifyingValue
  {
    DcmTagKey tag;
    std::string vr;          // "PN", "LO", "DA", ...
    std::string value;       // as stored (a PN keeps its ^ and = separators)
  };

  struct CleaningContext
  {
    DcmTagKey tag;
    std::string vr;          // dictionary VR ("LO", "SQ", ...), even when encoded as UN
    Option chosenBy;         // CleanDescriptors, CleanStructuredContent, CleanGraphics, ...
    // The instance's own identifying values (IdentifyingValues.h); nullptr if unknown.
    const std::vector<IdentifyingValue>* identifying = nullptr;
    // The cleaner adds the CATEGORY of what it removed ("person name", "date",
    // "unknown word", ...), never the removed text; may be nullptr.
    std::vector<std::string>* removedCategories = nullptr;
  };

  // Action C for descriptors, structured content and graphics (E.3.3-E.3.5).
  // Returning false means "could not clean": the engine then applies the
  // Basic Profile action of the attribute, which never leaks.
  class ITextCleaner
  {
  public:
    virtual ~ITextCleaner() = default;
    virtual bool CleanText(const CleaningContext& context, std::string& value) = 0;
    virtual bool CleanSequence(const CleaningContext& context, DcmItem& parent) = 0;
  };

  // What Clean Pixel Data did to one instance. Coordinates only, never text:
  // safe for the audit trail.
  struct PixelCleaningResult
  {
    bool cleaned = false;                     // regions were blacked out (BurnedInAnnotation NO)
    std::vector<std::string> rules;           // names of the matching region rules
    std::vector<PixelRectangle> regions;      // blacked out on every frame
    std::string sourceTransferSyntax;         // UID
    std::string writtenTransferSyntax;        // UID
    bool lossyDecompressed = false;           // lossy source written as Explicit VR Little Endian
    bool ocr = false;                         // text detection (Tesseract) ran
  };

  // Clean Pixel Data (E.3.1). Called with the ORIGINAL data set (before the
  // profile), so that rules match on the original attributes. Returns
  // cleaned = false, changing nothing, when no rule applies; throws DeidError
  // when pixels that should be cleaned cannot be.
  class IPixelCleaner
  {
  public:
    virtual ~IPixelCleaner() = default;
    virtual PixelCleaningResult Clean(DcmDataset& dataset) = 0;
  };
}
