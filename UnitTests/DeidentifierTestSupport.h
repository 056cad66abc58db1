// Helpers shared by the de-identification engine tests: profiles, datasets
// built in code, and running the Deidentifier with default providers.
#pragma once

#include "Engine/DefaultProviders.h"
#include "Engine/Deidentifier.h"
#include "Engine/DicomFile.h"
#include "Engine/BurnedInText.h"
#include "Engine/Profile.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <memory>
#include <string>

namespace Deid
{
  namespace Testing
  {
    inline std::shared_ptr<const ProfileTables> Tables()
    {
      static std::shared_ptr<const ProfileTables> tables = ProfileTables::LoadEmbedded();
      return tables;
    }

    inline std::unique_ptr<Profile> MakeProfile(const OptionSet& options = OptionSet())
    {
      return std::unique_ptr<Profile>(new Profile(Tables(), options));
    }

    // Headers only: instances that may carry burned-in text (US, SC, OT...)
    // pass with their pixels instead of being refused (PS3.15 E.3.1), for
    // tests of the attribute-level profile.
    inline std::unique_ptr<Profile> MakeHeadersOnlyProfile(const OptionSet& options = OptionSet())
    {
      BurnedInTextPolicy acceptRisk = BurnedInTextPolicy::Default();
      acceptRisk.acceptRisk = true;
      return std::unique_ptr<Profile>(new Profile(Tables(), options, "Basic", acceptRisk));
    }

    // A SOP Class without PS3.3 Type data (Profiles/AttributeTypes.json): the
    // engine keeps its behaviour without IOD knowledge ("no IOD data").
    constexpr const char* NO_IOD_DATA_SOP_CLASS = "1.2.826.0.1.3680043.10.543.999";

    // A minimal CT-like instance (Part 10, explicit VR little endian).
    inline std::unique_ptr<DcmFileFormat> MakeFile(const char* sopClass = UID_CTImageStorage)
    {
      std::unique_ptr<DcmFileFormat> file(new DcmFileFormat);
      DcmDataset& ds = *file->getDataset();
      ds.putAndInsertString(DCM_SOPClassUID, sopClass);
      ds.putAndInsertString(DCM_SOPInstanceUID, "1.2.3.4.5.6.7.100");
      ds.putAndInsertString(DCM_StudyInstanceUID, "1.2.3.4.5.6.7.1");
      ds.putAndInsertString(DCM_SeriesInstanceUID, "1.2.3.4.5.6.7.2");
      ds.putAndInsertString(DCM_PatientName, "Doe^John");
      ds.putAndInsertString(DCM_PatientID, "PID-12345");
      ds.putAndInsertString(DCM_Modality, "CT");
      file->getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPClassUID, sopClass);
      file->getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPInstanceUID, "1.2.3.4.5.6.7.100");
      file->getMetaInfo()->putAndInsertString(DCM_TransferSyntaxUID, UID_LittleEndianExplicitTransferSyntax);
      return file;
    }

    struct Providers
    {
      RandomUidProvider uids;
      RandomPseudonymProvider pseudonyms;
      FixedDateOffsetProvider dateOffsets;
      ConservativeTextCleaner cleaner;
      DeidentificationContext context;

      explicit Providers(int32_t offsetDays = 0) :
        dateOffsets(offsetDays)
      {
        context.uids = &uids;
        context.pseudonyms = &pseudonyms;
        context.dateOffsets = &dateOffsets;
        context.textCleaner = &cleaner;
      }
    };

    inline std::string GetString(DcmItem& item, const DcmTagKey& key)
    {
      OFString s;
      if (item.findAndGetOFStringArray(key, s, OFFalse).bad())
      {
        return "<absent>";
      }
      return std::string(s.c_str(), s.length());
    }

    inline bool Has(DcmItem& item, const DcmTagKey& key)
    {
      return item.tagExists(key, OFFalse);
    }

    // Adds an item to a sequence (created if absent) and returns it.
    inline DcmItem& AddItem(DcmItem& parent, const DcmTagKey& sequence)
    {
      DcmItem* item = nullptr;
      parent.findOrCreateSequenceItem(sequence, item, -2 /* append */);
      return *item;
    }

    inline DcmItem* GetItem(DcmItem& parent, const DcmTagKey& sequence, unsigned long index = 0)
    {
      DcmItem* item = nullptr;
      if (parent.findAndGetSequenceItem(sequence, item, static_cast<int>(index)).bad())
      {
        return nullptr;
      }
      return item;
    }

    inline unsigned long CountItems(DcmItem& parent, const DcmTagKey& sequence)
    {
      DcmSequenceOfItems* sq = nullptr;
      if (parent.findAndGetSequence(sequence, sq).bad() || sq == nullptr)
      {
        return 0;
      }
      return sq->card();
    }
  }
}
