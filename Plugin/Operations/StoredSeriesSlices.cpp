// The slices of a stored series, for fitting the defacing plane (PS3.15 E.3.2).
#include "Operations/StoredSeriesSlices.h"

#include "Orthanc/OrthancApi.h"

#include "Engine/DeidError.h"
#include "Engine/DicomFile.h"
#include "Engine/ElementValues.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <cmath>

namespace Deid
{
  namespace
  {
    DeidError Refuse(const std::string& why)
    {
      return DeidError(ErrorCode::Refused, "Clean Recognizable Visual Features: " + why);
    }

    bool SameOrientation(DcmItem& a, DcmItem& b)
    {
      for (unsigned long i = 0; i < 6; i++)
      {
        Float64 x = 0, y = 0;
        if (a.findAndGetFloat64(DCM_ImageOrientationPatient, x, i).bad() ||
            b.findAndGetFloat64(DCM_ImageOrientationPatient, y, i).bad() || std::fabs(x - y) > 0.05)
        {
          return false;
        }
      }
      return true;
    }
  }

  std::vector<SliceSample> LoadStoredSeriesSlices(DcmDataset& instance)
  {
    const std::string uid = GetString(instance, DCM_SeriesInstanceUID);
    const std::string sopClass = GetString(instance, DCM_SOPClassUID);

    std::vector<std::string> instances;
    try
    {
      Json::Value found;
      OrthancApi::RestPost(found, "/tools/lookup", uid.data(), uid.size());
      std::string seriesId;
      for (Json::ArrayIndex i = 0; found.isArray() && i < found.size(); i++)
      {
        if (found[i].isObject() && found[i]["Type"] == "Series" && found[i]["ID"].isString())
        {
          seriesId = found[i]["ID"].asString();
          break;
        }
      }
      if (seriesId.empty())
      {
        throw Refuse("the series of this instance is not stored in Orthanc, and defacing needs the whole series "
                     "(store the series first)");
      }
      Json::Value series;
      OrthancApi::RestGet(series, "/series/" + seriesId);
      for (const Json::Value& id : series["Instances"])
      {
        if (id.isString())
        {
          instances.push_back(id.asString());
        }
      }
    }
    catch (const OrthancApi::HttpError&)
    {
      throw Refuse("cannot look up the series of this instance in Orthanc");
    }

    std::vector<SliceSample> slices;
    for (const std::string& id : instances)
    {
      std::string file;
      try
      {
        OrthancApi::RestGet(file, "/instances/" + id + "/file");
      }
      catch (const OrthancApi::HttpError&)
      {
        throw Refuse("cannot read instance " + id + " of the series from Orthanc");
      }
      std::unique_ptr<DcmFileFormat> parsed;
      try
      {
        parsed = ParseDicom(file.data(), file.size());
      }
      catch (const DeidError&)
      {
        throw Refuse("instance " + id + " of the series is not a valid DICOM file");
      }
      file.clear();
      DcmDataset& dataset = *parsed->getDataset();
      // Localizers and other objects of the series are not slices of the volume.
      if (GetString(dataset, DCM_SOPClassUID) != sopClass || !SameOrientation(dataset, instance))
      {
        continue;
      }
      try
      {
        slices.push_back(ReadSliceSample(dataset));
      }
      catch (const DeidError& e)
      {
        throw DeidError(e.GetCode(), std::string(e.what()) + " (instance " + id + " of the series)");
      }
    }
    return slices;
  }
}
