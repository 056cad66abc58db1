// What the de-identifier writes besides the walk (PS3.15 E.1, E.3.6).
#pragma once

#include "Deidentifier.h"

#include <dcmtk/dcmdata/dcmetinf.h>

#include <string>

namespace Deid
{
  // Patient Identity Removed, De-identification Method, De-identification
  // Method Code Sequence, Longitudinal Temporal Information Modified.
  extern const DcmTagKey DEIDENTIFICATION_MARKERS[4];

  // Copies the element into target if the data set has it.
  void SnapshotIfPresent(DcmItem& dataset, const DcmTagKey& key, DcmItem& target);

  // PS3.15 E.1: the File Meta Information is replaced with a description of
  // the de-identifying application; the SOP Instance UID follows the data set.
  void ReplaceFileMetaInformation(const Profile& profile, DcmMetaInfo* meta, DcmDataset* dataset,
                                  const std::string& originalMediaSopInstance,
                                  DeidentificationContext& context,
                                  const DeidentificationSettings& settings,
                                  DeidentificationResult& result);

  // PS3.15 E.1: Patient Identity Removed, De-identification Method (Code
  // Sequence, CID 7050); E.3.6: Longitudinal Temporal Information Modified.
  // addedOriginals holds the original values of these attributes (E.1.1).
  void AddDeidentificationMarkers(const Profile& profile, DcmDataset* dataset,
                                  DcmItem& addedOriginals,
                                  const DeidentificationSettings& settings,
                                  DeidentificationResult& result);
}
