// What the de-identifier writes besides the walk (PS3.15 E.1, E.3.6): the
// File Meta Information replaced, Patient Identity Removed, De-identification
// Method (Code Sequence, CID 7050), Longitudinal Temporal Information Modified.

#include "DeidentificationMarkers.h"
#include "DeidError.h"
#include "ElementValues.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <cstdio>

namespace Deid
{
  const DcmTagKey DEIDENTIFICATION_MARKERS[4] = {
    DCM_PatientIdentityRemoved, DCM_DeidentificationMethod,
    DCM_DeidentificationMethodCodeSequence, DCM_LongitudinalTemporalInformationModified
  };

  void SnapshotIfPresent(DcmItem& dataset, const DcmTagKey& key, DcmItem& target)
  {
    DcmElement* element = nullptr;
    if (dataset.findAndGetElement(key, element, OFFalse).good() && element != nullptr)
    {
      target.insert(OFstatic_cast(DcmElement*, element->clone()), OFTrue);
    }
  }

  void ReplaceFileMetaInformation(const Profile& profile_, DcmMetaInfo* meta, DcmDataset* dataset,
                                  const std::string& originalMediaSopInstance,
                                  DeidentificationContext& context,
                                  const DeidentificationSettings& settings,
                                  DeidentificationResult& result)
  {
    std::string sopInstance = GetString(*dataset, DCM_SOPInstanceUID);
    if (sopInstance.empty() && !originalMediaSopInstance.empty())
    {
      ResolvedAction r = profile_.Resolve(DCM_MediaStorageSOPInstanceUID);
      sopInstance = (r.action == ActionCode::K) ? originalMediaSopInstance :
        context.uids->MapUid(originalMediaSopInstance);
    }
    const std::string transferSyntax = GetString(*meta, DCM_TransferSyntaxUID);

    for (unsigned long i = meta->card(); i > 0; i--)
    {
      DcmElement* element = meta->getElement(i - 1);
      const DcmTagKey key = element->getTag();
      if (key == DCM_FileMetaInformationGroupLength ||
          key == DCM_FileMetaInformationVersion ||
          key == DCM_MediaStorageSOPClassUID ||
          key == DCM_MediaStorageSOPInstanceUID ||
          key == DCM_TransferSyntaxUID)
      {
        continue;
      }

      if (settings.recordChanges)
      {
        ElementChange change;
        char tag[16];
        snprintf(tag, sizeof(tag), "(%04X,%04X)", key.getGroup(), key.getElement());
        change.tag = tag;
        change.name = DcmTag(key).getTagName();
        change.action = "X";
        OFString value;
        if (element->isLeaf() && element->getOFStringArray(value).good())
        {
          change.before = std::string(value.c_str(), value.length());
        }
        result.changes.push_back(change);
      }
      delete meta->remove(element);
    }

    if (!sopInstance.empty())
    {
      if (sopInstance != originalMediaSopInstance && settings.recordChanges)
      {
        ElementChange change;
        change.tag = "(0002,0003)";
        change.name = "MediaStorageSOPInstanceUID";
        change.action = "U";
        if (!originalMediaSopInstance.empty())
        {
          change.before = originalMediaSopInstance;
        }
        change.after = sopInstance;
        result.changes.push_back(change);
      }
      meta->putAndInsertString(DCM_MediaStorageSOPInstanceUID, sopInstance.c_str());
    }
    if (!transferSyntax.empty())
    {
      meta->putAndInsertString(DCM_TransferSyntaxUID, transferSyntax.c_str());
    }
  }

  void AddDeidentificationMarkers(const Profile& profile_, DcmDataset* dataset,
                                  DcmItem& addedOriginals,
                                  const DeidentificationSettings& settings,
                                  DeidentificationResult& result)
  {
    const DcmTagKey (&added)[4] = DEIDENTIFICATION_MARKERS;
    DcmItem before;
    for (const DcmTagKey& key : added)
    {
      SnapshotIfPresent(*dataset, key, before);
    }

    dataset->putAndInsertString(DCM_PatientIdentityRemoved, "YES");

    // LO, VM 1-n: one value per part, so that no value exceeds 64 characters.
    std::string description = profile_.GetMethodDescription();
    std::string values;
    size_t start = 0;
    for (;;)
    {
      size_t pos = description.find("; ", start);
      values += description.substr(start, pos == std::string::npos ? std::string::npos : pos - start);
      if (pos == std::string::npos)
      {
        break;
      }
      values += '\\';
      start = pos + 2;
    }
    dataset->putAndInsertString(DCM_DeidentificationMethod, values.c_str());

    dataset->findAndDeleteElement(DCM_DeidentificationMethodCodeSequence, OFFalse, OFFalse);
    for (const MethodCode& code : profile_.GetMethodCodes())
    {
      DcmItem* item = new DcmItem;
      item->putAndInsertString(DCM_CodeValue, code.codeValue.c_str());
      item->putAndInsertString(DCM_CodingSchemeDesignator, code.codingSchemeDesignator.c_str());
      item->putAndInsertString(DCM_CodeMeaning, code.codeMeaning.c_str());
      if (dataset->insertSequenceItem(DCM_DeidentificationMethodCodeSequence, item).bad())
      {
        delete item;
        throw DeidError(ErrorCode::Internal, "Cannot add De-identification Method Code Sequence");
      }
    }

    if (profile_.GetOptions().Has(Option::RetainLongitudinalModifiedDates))
    {
      dataset->putAndInsertString(DCM_LongitudinalTemporalInformationModified, "MODIFIED");
    }
    else if (profile_.GetOptions().Has(Option::RetainLongitudinalFullDates))
    {
      dataset->putAndInsertString(DCM_LongitudinalTemporalInformationModified, "UNMODIFIED");
    }
    else if (dataset->tagExists(DCM_LongitudinalTemporalInformationModified, OFFalse))
    {
      // PS3.3 C.12.1: the Basic Profile removes dates; an earlier
      // "UNMODIFIED" would no longer be true.
      dataset->putAndInsertString(DCM_LongitudinalTemporalInformationModified, "REMOVED");
    }

    if (settings.recordChanges)
    {
      for (const DcmTagKey& key : added)
      {
        DcmElement* element = nullptr;
        if (dataset->findAndGetElement(key, element, OFFalse).good() && element != nullptr)
        {
          ElementChange change;
          change.tag = FormatTag(key);
          change.name = DcmTag(key).getTagName();
          change.action = "set";
          OFString value;
          if (element->isLeaf() && element->getOFStringArray(value).good())
          {
            change.after = std::string(value.c_str(), value.length());
          }
          DcmElement* old = nullptr;
          if (before.findAndGetElement(key, old, OFFalse).good() && old != nullptr && old->isLeaf() &&
              old->getOFStringArray(value).good())
          {
            change.before = std::string(value.c_str(), value.length());
          }
          result.changes.push_back(change);
        }
      }
    }

    // E.1.1: the original values of these attributes, only if they existed
    // before and were changed (or removed by the profile).
    if (settings.collectOriginals)
    {
      for (const DcmTagKey& key : added)
      {
        DcmElement* original = nullptr;
        if (addedOriginals.findAndGetElement(key, original, OFFalse).bad() || original == nullptr)
        {
          continue;
        }
        if (result.modifiedAttributes->tagExists(key))
        {
          continue;   // already collected by the walk
        }

        DcmElement* now = nullptr;
        bool same = false;
        if (dataset->findAndGetElement(key, now, OFFalse).good() && now != nullptr)
        {
          same = (now->compare(*original) == 0);
        }
        if (!same)
        {
          result.modifiedAttributes->insert(OFstatic_cast(DcmElement*, original->clone()), OFTrue);
        }
      }
    }
  }
}
