// Reading the saved state of a job (OrthancJob.h, "SaveJobs"): the state
// comes back from Orthanc's database and is not trusted. Every Orthanc ID is
// checked (it goes into REST URIs, e.g. a deletion), every field has its
// type; anything else refuses the whole job with HttpError(BadFileFormat)
// and a message naming the field, never its value.
#pragma once

#include <json/value.h>

#include <set>
#include <string>

namespace Deid
{
  namespace SavedJobState
  {
    // The "Version" of an operation's state must be "expected".
    void CheckVersion(const Json::Value& state, int expected, const std::string& jobType);

    // An Orthanc ID (SHA-1 groups: hexadecimal digits and dashes).
    bool IsOrthancId(const std::string& id);
    std::string GetOrthancId(const Json::Value& state, const char* key);
    // The same, or "" when the key is missing or empty.
    std::string GetOptionalOrthancId(const Json::Value& state, const char* key);

    std::string GetString(const Json::Value& state, const char* key, const std::string& defaultValue = "");
    bool GetBool(const Json::Value& state, const char* key, bool defaultValue = false);
    const Json::Value& GetArray(const Json::Value& state, const char* key);
    const Json::Value& GetObject(const Json::Value& state, const char* key);
    std::set<std::string> GetOrthancIds(const Json::Value& state, const char* key);

    Json::Value ToArray(const std::set<std::string>& ids);
  }
}
