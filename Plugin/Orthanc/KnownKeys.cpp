#include "Orthanc/KnownKeys.h"

#include "Engine/SafeText.h"

#include <algorithm>

namespace Deid
{
  namespace KnownKeys
  {
    namespace
    {
      std::string List(const std::vector<std::string>& known)
      {
        std::string list;
        for (const std::string& key : known)
        {
          list += (list.empty() ? "" : ", ") + key;
        }
        return list.empty() ? "none" : list;
      }

      bool IsKnown(const std::vector<std::string>& known, const std::string& key)
      {
        return std::find(known.begin(), known.end(), key) != known.end();
      }
    }


    void Check(const Json::Value& body, const std::vector<std::string>& known, const std::string& where)
    {
      if (!body.isObject())
      {
        return;
      }
      for (const std::string& key : body.getMemberNames())
      {
        if (!IsKnown(known, key))
        {
          throw OrthancApi::HttpError::BadRequest("Unknown key " + SafeText::Quote(key) + " in " + where +
                                                  " (known keys: " + List(known) + ")");
        }
      }
    }


    void CheckHeaders(const OrthancApi::RestRequest& request, const std::string& prefix,
                      const std::vector<std::string>& known)
    {
      for (const auto& header : request.headers)
      {
        if (header.first.compare(0, prefix.size(), prefix) == 0 && !IsKnown(known, header.first))
        {
          throw OrthancApi::HttpError::BadRequest("Unknown HTTP header " + SafeText::Quote(header.first) +
                                                  " (known headers: " + List(known) + ")");
        }
      }
    }


    void CheckArguments(const OrthancApi::RestRequest& request, const std::vector<std::string>& known)
    {
      for (const auto& argument : request.arguments)
      {
        if (!IsKnown(known, argument.first))
        {
          throw OrthancApi::HttpError::BadRequest("Unknown argument " + SafeText::Quote(argument.first) +
                                                  " (known arguments: " + List(known) + ")");
        }
      }
    }


    std::vector<std::string> Join(const std::vector<std::string>& a, const std::vector<std::string>& b)
    {
      std::vector<std::string> result = a;
      result.insert(result.end(), b.begin(), b.end());
      return result;
    }
  }
}
