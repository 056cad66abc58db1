#include "Orthanc/ResourceLevel.h"

#include <stdexcept>

namespace Deid
{
  const ResourceLevel& ResourceLevel::FromName(const std::string& name)
  {
    static const ResourceLevel LEVELS[] =
    {
      { "Patient", "patients", "ParentPatient" },
      { "Study", "studies", "ParentStudy" },
      { "Series", "series", "ParentSeries" },
      { "Instance", "instances", "ID" }
    };

    for (const ResourceLevel& level : LEVELS)
    {
      if (name == level.singular || name == level.plural)
      {
        return level;
      }
    }
    throw std::invalid_argument("Unknown resource level");
  }
}
