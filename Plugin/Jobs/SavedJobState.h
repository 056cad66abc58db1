// Reading the saved state of a job (OrthancJob.h, "SaveJobs"): the state
// comes back from Orthanc's database and is not trusted. Every Orthanc ID is
// checked (it goes into REST URIs, e.g. a deletion), every field has its
// type; anything else refuses the whole job with HttpError(BadFileFormat)
// and a message naming the field, never its value.
#pragma once

#include <json/value.h>

#include <set>
#include <string>
#include <vector>

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

    // Per-instance lists are saved as one comma-separated string ("id,id,..."):
    // Orthanc asks for the saved state after every step and parses it, and
    // one string costs a fraction of an array of objects (a job of 10,000
    // instances saves about 1 MB per step otherwise).
    std::string JoinIds(const std::vector<std::string>& ids);

    // The list back: "" is no entry; with allowEmptyEntries, an entry may be
    // "" (e.g. no copy yet); with expectedCount, the list must have that many
    // entries ("" is then one empty entry when expectedCount is 1).
    std::vector<std::string> GetIdList(const Json::Value& state, const char* key, bool allowEmptyEntries,
                                       size_t expectedCount = static_cast<size_t>(-1));
  }
}
