// Unknown keys in a request are errors, not silently ignored: a typo such as
// "Optoins" must not run the default profile unnoticed. Each route lists the
// keys it reads and calls these first (routes of later features too).
#pragma once

#include "Orthanc/OrthancApi.h"

#include <json/value.h>

#include <string>
#include <vector>

namespace Deid
{
  namespace KnownKeys
  {
    // Throws HttpError(BadRequest) naming the first key of "body" (a JSON
    // object; other values are left to the caller) that is not in "known":
    //   Unknown key "Optoins" in the request body (known keys: Profile, Options, ...)
    // The key is escaped and cut (SafeText.h).
    void Check(const Json::Value& body, const std::vector<std::string>& known,
               const std::string& where = "the request body");

    // The same for the HTTP headers starting with "prefix" (lower case, e.g.
    // "x-deidentification-"): "known" lists whole header names in lower case.
    void CheckHeaders(const OrthancApi::RestRequest& request, const std::string& prefix,
                      const std::vector<std::string>& known);

    // The same for the GET arguments of the request.
    void CheckArguments(const OrthancApi::RestRequest& request, const std::vector<std::string>& known);

    // "a" + "b": the key list of a route made of common keys and its own.
    std::vector<std::string> Join(const std::vector<std::string>& a, const std::vector<std::string>& b);
  }
}
