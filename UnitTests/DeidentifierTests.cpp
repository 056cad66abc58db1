// Tests of the de-identification engine (PS3.15 E.1, E.3) on data sets built in code.
#include "DeidentifierTestSupport.h"

#include "Engine/DeidError.h"

#include <gtest/gtest.h>

using namespace Deid;
using namespace Deid::Testing;

TEST(Deidentifier, BasicProfileSmoke)
{
  auto profile = MakeProfile();
  Deidentifier deid(*profile);
  Providers p;
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DCM_InstitutionName, "General Hospital");   // X/Z/D
  ds.putAndInsertString(DCM_StudyDate, "20200102");                 // Z

  DeidentificationSettings settings;
  settings.recordChanges = true;
  settings.collectOriginals = true;
  DeidentificationResult r = deid.Apply(*file, p.context, settings);

  EXPECT_EQ("1.2.3.4.5.6.7.100", r.originalSopInstanceUid);
  std::string sop = GetString(ds, DCM_SOPInstanceUID);
  EXPECT_EQ(0u, sop.find("2.25."));
  EXPECT_EQ(sop, GetString(*file->getMetaInfo(), DCM_MediaStorageSOPInstanceUID));
  EXPECT_EQ("ANONYMOUS", GetString(ds, DCM_InstitutionName));
  EXPECT_EQ("", GetString(ds, DCM_StudyDate));
  EXPECT_NE("Doe^John", GetString(ds, DCM_PatientName));
  EXPECT_EQ("YES", GetString(ds, DCM_PatientIdentityRemoved));
  EXPECT_EQ(UID_CTImageStorage, GetString(ds, DCM_SOPClassUID));
  EXPECT_FALSE(r.changes.empty());
  ASSERT_TRUE(r.modifiedAttributes);
  EXPECT_EQ("Doe^John", GetString(*r.modifiedAttributes, DCM_PatientName));
  EXPECT_FALSE(Has(*r.modifiedAttributes, DCM_Modality));

  std::string bytes = WriteDicom(*file);
  auto back = ParseDicom(bytes.data(), bytes.size());
  EXPECT_EQ(sop, GetString(*back->getDataset(), DCM_SOPInstanceUID));
}
