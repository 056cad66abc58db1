// Applies the Basic Application Level Confidentiality Profile and its Options
// (PS3.15 E.1, E.3) to one DICOM instance.
//
// Choices (README):
//  - Combined actions of Table E.1-1a (X/Z, Z/D, X/D, X/Z/D, X/Z/U*) depend on
//    the IOD Type of the attribute ("X unless Z or D is required to maintain
//    IOD conformance"): TypeResolution.cpp decides them, and X or Z on Type 1
//    and 2 attributes, from Profiles/AttributeTypes.json for the instance's
//    SOP Class. Without IOD tables (a SOP Class without Type data, or an
//    attribute the IOD does not define at that path) the engine takes the variant that
//    keeps a valid instance whatever the Type: the attribute stays present
//    with minimal content: Z/D, X/D, X/Z/D -> D; X/Z -> Z; X/Z/U* -> the
//    sequence is kept and its items are processed recursively, which replaces
//    the contained instance UIDs (U) and applies every other rule. If the
//    original value is empty, D becomes Z: an empty value is exactly as
//    valid as the original one and leaks nothing.
//  - D: the ASCII dummies of DummyValues.h (DA 19000101, TM 000000, DT
//    19000101000000, AS 000D, DS/IS 0, UR urn:deidentified, other text
//    "ANONYMOUS", binary VRs one zero value); on a UI a replacement UID (as
//    U). D on an element read as UN whose VR is unknown to the dictionary
//    removes it (no dummy "consistent with the VR" can be made). Z on a
//    sequence: the sequence is emptied (no items).
//  - D on a sequence (Content, Verifying Observer, Graphic Annotation,
//    Waveform Annotation, Operator Identification, ... Sequences, also from
//    X/D, X/Z/D): the structure is kept and the content replaced by dummies,
//    so that the Type 1 attributes of the items stay present (RelationshipType,
//    VerifyingObserverName, ReferencedWaveformChannels, ...). The items are
//    kept (none if there were none) and processed in "dummy mode":
//    . attributes of Table E.1-1 get their resolved action (options apply),
//      but X and Z on a non-sequence become D (Z if the value is empty);
//      U, K and C apply as usual. A sequence listed X is still removed (icons,
//      signatures, original attributes cannot be made dummies), Z emptied,
//      D processed in dummy mode again;
//    . attributes not listed: AE AS DA DT TM LO LT PN SH ST UC UR UT values
//      become dummies (empty ones stay empty); CS (enumerated values such as
//      RelationshipType, ValueType), UI (class and coding scheme UIDs: the
//      instance UIDs are listed U), numbers and binary values (measurements,
//      channels, waveform data) are kept; an element read as UN whose VR is
//      unknown is removed; sequences are processed in dummy mode, and in their
//      items the coded attributes of the Code Sequence Macro (Code Value,
//      Coding Scheme Designator/Version, Code Meaning, Long/URN Code Value,
//      Context Identifier, ...) are kept: concept names are standard codes.
//      The coded attributes directly in the items of a D sequence (Person
//      Identification Code Sequence, Institution Code Sequence) become dummies;
//    . private elements: the rules below.
//    Each replaced element is recorded with its path; for E.1.1 the whole
//    top-level sequence is copied if anything in it changed.
//  - K and C on a sequence, and sequences not listed in Table E.1-1: the items
//    are processed recursively ("K: cleaned for Sequences", E.1-1a note).
//  - PatientName / PatientID with Z or D get the pseudonym of the provider
//    (computed from the original PatientID, IssuerOfPatientID, PatientName).
//  - C from RetainLongitudinalModifiedDates: DA and DT values are shifted by
//    the patient's offset in days (time and time zone kept), TM is kept.
//    C from RetainSafePrivate: the (safe) private element is kept. Any other
//    C goes to the text cleaner; when it cannot clean, the Basic Profile
//    action applies (never leaks).
//  - Elements encoded with VR UN are handled with their dictionary VR (for
//    private tags: with their private creator); a kept or replaced element is
//    re-created with its real VR when that is known.
//  - Private elements are removed unless RetainSafePrivate and listed in
//    Table E.3.10-1 for their own private creator; a private creator is
//    removed when nothing of its block is kept. Private sequences are removed
//    with the Basic Profile; with RetainSafePrivate their items are processed
//    (E.3.10) and the sequence is kept only if something is left in them.
//  - Group 0004 is removed (E.1). A DICOMDIR is refused (NotImplemented):
//    its record offsets cannot survive the changes, and E.1 asks for a new
//    DICOMDIR "created from the de-identified DICOM Files it references".
//  - E.1.1 (collectOriginals): a copy of each top-level element as it was
//    before, for every element that was modified or removed (whole sequence
//    if anything inside changed); the attributes added by the engine only if
//    they existed before with another value.
//  - Clean Pixel Data (E.3.1) runs on the original data set, before the walk,
//    so that region rules match on the original attributes. When it ran,
//    Burned In Annotation (0028,0301) becomes NO and the transfer syntax is
//    the one the cleaner wrote (a lossy source: Explicit VR Little Endian,
//    recorded in De-identification Method). When no rule applies to an
//    instance that may carry burned-in text, the instance is refused, as it
//    is by a profile without the option unless the profile accepts the risk.
//  - Clean Recognizable Visual Features (E.3.2) runs first, on the original
//    data set: an instance that can show a face (RecognizableVisualFeatures.h)
//    is defaced when it is a head CT slice and a defacer is given, and then
//    gets Recognizable Visual Features (0028,0302) NO; otherwise it is
//    refused with the reason. Other instances pass unchanged.
//  - The File Meta Information is replaced (E.1): only the SOP Class, the new
//    SOP Instance UID and the transfer syntax are kept; DCMTK adds its
//    implementation identification when writing. WriteDicom writes a zero
//    preamble.

#include "Deidentifier.h"
#include "DeidError.h"
#include "DeidentificationMarkers.h"
#include "DeidentificationWalker.h"
#include "IdentifyingValues.h"
#include "ElementValues.h"
#include "PixelCleaner.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcmetinf.h>

namespace Deid
{
  namespace
  {
    const char* const DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10";

    // PS3.15 E.3.1, and the fail-closed rule on burned-in text (BurnedInText.h).
    void CleanPixelData(const Profile& profile, DcmDataset& dataset, DcmMetaInfo& meta,
                        DeidentificationContext& context, const DeidentificationSettings& settings,
                        DeidentificationResult& result)
    {
      const BurnedInTextPolicy& policy = profile.GetBurnedInTextPolicy();
      const std::string risk = MayCarryBurnedInText(dataset, policy);

      if (!profile.GetOptions().Has(Option::CleanPixelData))
      {
        if (!risk.empty() && !policy.acceptRisk)
        {
          throw DeidError(ErrorCode::Refused, risk + ": the pixels may carry burned-in identifying text, and "
                          "profile \"" + profile.GetName() + "\" does not clean pixel data (CleanPixelData) "
                          "nor accept the risk (AcceptBurnedInAnnotationRisk)");
        }
        return;
      }

      if (!HasPixelData(dataset))
      {
        return;
      }
      if (context.pixelCleaner == nullptr)
      {
        throw DeidError(ErrorCode::Internal, "CleanPixelData needs a pixel cleaner");
      }
      result.pixels = context.pixelCleaner->Clean(dataset);
      if (!result.pixels.cleaned && !risk.empty() && !policy.acceptRisk)
      {
        throw DeidError(ErrorCode::Refused, risk + ": the pixels may carry burned-in identifying text, and no "
                        "pixel region rule (PixelRegions) of the configuration matches this instance");
      }
      if (result.pixels.cleaned && !result.pixels.writtenTransferSyntax.empty())
      {
        meta.putAndInsertString(DCM_TransferSyntaxUID, result.pixels.writtenTransferSyntax.c_str());
      }
      if (result.pixels.cleaned && settings.recordChanges)
      {
        // For the preview: what was done, as counts and syntaxes (no pixel values).
        ElementChange change;
        change.tag = "(7FE0,0010)";
        change.name = "PixelData";
        change.action = "C";
        change.option = GetOptionName(Option::CleanPixelData);
        change.after = std::to_string(result.pixels.regions.size()) + " region(s) blacked out on every frame" +
          (result.pixels.ocr ? " (OCR)" : "") + ", transfer syntax " + result.pixels.writtenTransferSyntax;
        result.changes.push_back(change);
      }
    }

    // PS3.15 E.3.2.
    void CleanRecognizableVisualFeatures(const Profile& profile, DcmDataset& dataset,
                                         DeidentificationContext& context, const DeidentificationSettings& settings,
                                         DeidentificationResult& result)
    {
      if (!profile.GetOptions().Has(Option::CleanRecognizableVisualFeatures))
      {
        return;
      }
      const VisualFeatureRisk risk = ClassifyVisualFeatures(dataset);
      if (risk.kind == VisualFeatureKind::None)
      {
        return;
      }
      if (risk.kind != VisualFeatureKind::HeadCt)
      {
        throw DeidError(ErrorCode::Refused, "Clean Recognizable Visual Features: " + risk.reason +
                        ", and only head CT series are defaced by this version");
      }
      if (context.defacer == nullptr)
      {
        throw DeidError(ErrorCode::Refused, "Clean Recognizable Visual Features: " + risk.reason +
                        ", and this operation cannot read the series to deface it");
      }
      try
      {
        result.defacing = context.defacer->Deface(dataset);
      }
      catch (const DeidError& e)
      {
        throw DeidError(e.GetCode(), std::string(e.what()) + " (" + risk.reason + ")");
      }
      if (result.defacing.defaced && settings.recordChanges)
      {
        ElementChange change;
        change.tag = "(7FE0,0010)";
        change.name = "PixelData";
        change.action = "C";
        change.option = GetOptionName(Option::CleanRecognizableVisualFeatures);
        change.after = std::to_string(result.defacing.blankedPixels) + " pixel(s) in front of the face plane set "
          "to air (defaced)";
        result.changes.push_back(change);
      }
    }

    void MarkPixelCleaning(DcmDataset& dataset, const PixelCleaningResult& pixels)
    {
      if (!pixels.cleaned)
      {
        return;
      }
      dataset.putAndInsertString(DCM_BurnedInAnnotation, "NO");   // E.3.1: only once cleaned
      if (pixels.lossyDecompressed)
      {
        OFString method;
        dataset.findAndGetOFStringArray(DCM_DeidentificationMethod, method);
        std::string value(method.c_str(), method.length());
        value += "\\Lossy pixels rewritten as Explicit VR Little Endian";
        dataset.putAndInsertString(DCM_DeidentificationMethod, value.c_str());
      }
    }

    DeidentificationResult ApplyProfile(const Profile& profile_,
                                        DcmFileFormat& file,
                                        DeidentificationContext& context,
                                        const DeidentificationSettings& settings)
    {
      if (context.uids == nullptr || context.pseudonyms == nullptr || context.textCleaner == nullptr)
      {
        throw DeidError(ErrorCode::Internal, "Incomplete de-identification context");
      }
      if (profile_.GetOptions().Has(Option::RetainLongitudinalModifiedDates) && context.dateOffsets == nullptr)
      {
        throw DeidError(ErrorCode::Internal, "RetainLongitudinalModifiedDates needs a date offset provider");
      }

      DcmDataset* dataset = file.getDataset();
      DcmMetaInfo* meta = file.getMetaInfo();
      if (dataset == nullptr || meta == nullptr)
      {
        throw DeidError(ErrorCode::BadInput, "No data set");
      }

      DeidentificationResult result;
      if (settings.collectOriginals)
      {
        result.modifiedAttributes.reset(new DcmItem);
      }

      // The patient, from the ORIGINAL values (pseudonyms, date offsets).
      PatientKey patient;
      patient.patientId = GetString(*dataset, DCM_PatientID);
      patient.issuerOfPatientId = GetString(*dataset, DCM_IssuerOfPatientID);
      patient.patientName = GetString(*dataset, DCM_PatientName);

      result.originalSopInstanceUid = GetString(*dataset, DCM_SOPInstanceUID);
      const std::string originalMediaSopInstance = GetString(*meta, DCM_MediaStorageSOPInstanceUID);
      const std::string mediaSopClass = GetString(*meta, DCM_MediaStorageSOPClassUID);
      const bool isDicomDir = (mediaSopClass == DICOMDIR_SOP_CLASS ||
                               GetString(*dataset, DCM_SOPClassUID) == DICOMDIR_SOP_CLASS ||
                               dataset->tagExists(DCM_DirectoryRecordSequence, OFFalse));
      if (isDicomDir)
      {
        throw DeidError(ErrorCode::NotImplemented,
                        "DICOMDIR files are not de-identified: create a new DICOMDIR from the "
                        "de-identified files (PS3.15 E.1)");
      }

      // The attributes that the engine sets at the end: their original values.
      DcmItem addedOriginals;
      const DcmTagKey added[] = { DCM_PatientIdentityRemoved, DCM_DeidentificationMethod,
                                  DCM_DeidentificationMethodCodeSequence,
                                  DCM_LongitudinalTemporalInformationModified };
      if (settings.collectOriginals)
      {
        for (const DcmTagKey& key : added)
        {
          SnapshotIfPresent(*dataset, key, addedOriginals);
        }
      }

      // The PS3.3 Types of the instance's IOD, by its SOP Class (none: "no IOD data").
      const AttributeTypes* types = profile_.GetTables().GetAttributeTypes();
      const IodAttributeTypes* iod = (types == nullptr) ? nullptr :
        types->FindBySopClass(GetString(*dataset, DCM_SOPClassUID));

      CleanRecognizableVisualFeatures(profile_, *dataset, context, settings, result);
      CleanPixelData(profile_, *dataset, *meta, context, settings, result);

      DeidentificationWalker walker(profile_, context, settings, result, patient, iod);
      const OptionSet& options = profile_.GetOptions();
      if (options.Has(Option::CleanDescriptors) || options.Has(Option::CleanStructuredContent) ||
          options.Has(Option::CleanGraphics))
      {
        walker.SetIdentifyingValues(CollectIdentifyingValues(*dataset));   // before any change
      }
      walker.ProcessItem(*dataset, "", true);

      ReplaceFileMetaInformation(profile_, meta, dataset, originalMediaSopInstance, context, settings, result);
      AddDeidentificationMarkers(profile_, dataset, addedOriginals, settings, result);
      MarkPixelCleaning(*dataset, result.pixels);
      if (result.defacing.defaced)
      {
        dataset->putAndInsertString(DCM_RecognizableVisualFeatures, "NO");   // E.3.2: only once defaced
      }

      return result;
    }
  }


  DeidentificationResult Deidentifier::Apply(DcmFileFormat& file,
                                             DeidentificationContext& context,
                                             const DeidentificationSettings& settings) const
  {
    try
    {
      return ApplyProfile(profile_, file, context, settings);
    }
    catch (DeidError&)
    {
      throw;
    }
    catch (std::bad_alloc&)
    {
      throw DeidError(ErrorCode::Internal, "Out of memory while de-identifying");
    }
    catch (std::exception&)
    {
      // Not forwarded: the message of a library exception might quote data.
      throw DeidError(ErrorCode::Internal, "Unexpected error while de-identifying");
    }
  }
}
