// Applies a Profile to one DICOM instance (PS3.15 E.1): walks every element,
// at any depth, including file meta information, private elements and
// elements encoded with VR UN, and applies the resolved action.
// A Deidentifier is stateless apart from its const Profile: one can be used
// by many threads at once, each with its own instance in memory.
#pragma once

#include "Profile.h"
#include "Providers.h"
#include "RecognizableVisualFeatures.h"

#include <dcmtk/dcmdata/dcfilefo.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace Deid
{
  // The replacement values of one operation. Owned by the caller; the
  // providers must outlive the calls that use them.
  struct DeidentificationContext
  {
    IUidProvider* uids = nullptr;                 // required
    IPseudonymProvider* pseudonyms = nullptr;     // required
    IDateOffsetProvider* dateOffsets = nullptr;   // required if RetainLongitudinalModifiedDates
    ITextCleaner* textCleaner = nullptr;          // required
    IPixelCleaner* pixelCleaner = nullptr;        // optional
    IDefacer* defacer = nullptr;                  // optional: head CT under CleanRecognizableVisualFeatures
  };

  // One element the profile touched (for the preview route). Holds original
  // values: only ever returned to an explicit preview request.
  struct ElementChange
  {
    std::string tag;        // "(0010,0010)"
    std::string name;       // DCMTK dictionary name, "PatientName"
    std::string path;       // "ReferencedSeriesSequence[0].SeriesInstanceUID", empty at top level
    std::string action;     // the applied action: "X", "Z", "D", "U", "K", "C", "shift", ...
    std::string option;     // the option that chose it, empty for the Basic Profile
    std::optional<std::string> before;   // not set for sequences and binary values
    std::optional<std::string> after;    // not set when removed
    // What decided the action beyond Table E.1-1, e.g. "X/Z→D: Type 1 in
    // Presentation State Identification" or "X/Z: no IOD data"; empty if nothing.
    std::string reason;
  };

  struct DeidentificationSettings
  {
    bool recordChanges = false;      // fill DeidentificationResult::changes
    bool collectOriginals = false;   // fill DeidentificationResult::modifiedAttributes (E.1.1)
  };

  struct DeidentificationResult
  {
    std::vector<ElementChange> changes;
    // PS3.15 E.1.1: the original values of every top-level attribute that was
    // modified or removed (a sequence is copied whole if anything in it
    // changed), ready to become an item of Modified Attributes Sequence
    // (0400,0550). nullptr unless collectOriginals.
    std::unique_ptr<DcmItem> modifiedAttributes;
    std::string originalSopInstanceUid;   // for linking; never logged
    PixelCleaningResult pixels;           // Clean Pixel Data (E.3.1): coordinates only
    DefacingResult defacing;              // Clean Recognizable Visual Features (E.3.2): counts only
  };

  class Deidentifier
  {
  private:
    const Profile& profile_;

  public:
    explicit Deidentifier(const Profile& profile) : profile_(profile) {}

    const Profile& GetProfile() const { return profile_; }

    // De-identifies the file in place (dataset and meta header) and adds
    // PatientIdentityRemoved, DeidentificationMethod(CodeSequence) and
    // LongitudinalTemporalInformationModified (PS3.15 E.1, E.3.6).
    DeidentificationResult Apply(DcmFileFormat& file,
                                 DeidentificationContext& context,
                                 const DeidentificationSettings& settings = DeidentificationSettings()) const;
  };
}
