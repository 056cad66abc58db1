// The levels of the Orthanc resource hierarchy and their REST names.
#pragma once

#include <string>

namespace Deid
{
  struct ResourceLevel
  {
    const char* singular;    // "Study" (Orthanc's "Type")
    const char* plural;      // "studies" (the REST path)
    const char* parentKey;   // key of POST /instances answers: "ParentStudy"

    std::string GetUri(const std::string& id) const
    {
      return std::string("/") + plural + "/" + id;
    }

    // "Patient"/"Study"/"Series"/"Instance" or the REST names
    // "patients"/"studies"/"series"/"instances". Throws std::invalid_argument.
    static const ResourceLevel& FromName(const std::string& name);
  };
}
