#include "Jobs/SavedJobState.h"

#include "Orthanc/OrthancApi.h"

namespace Deid
{
  namespace SavedJobState
  {
    using OrthancApi::HttpError;

    static HttpError Refuse(const std::string& message)
    {
      return HttpError(OrthancPluginErrorCode_BadFileFormat, message);
    }

    static HttpError BadField(const char* key)
    {
      return Refuse(std::string("the field \"") + key + "\" of the saved state is missing or invalid");
    }

    void CheckVersion(const Json::Value& state, int expected, const std::string& jobType)
    {
      if (!state.isObject() || !state["Version"].isInt())
      {
        throw Refuse("the saved " + jobType + " state has no version");
      }
      if (state["Version"].asInt() != expected)
      {
        throw Refuse("the saved " + jobType + " state has version " + std::to_string(state["Version"].asInt()) +
                     ", this plugin reads version " + std::to_string(expected));
      }
    }

    bool IsOrthancId(const std::string& id)
    {
      if (id.empty() || id.size() > 64)
      {
        return false;
      }
      for (char c : id)
      {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-'))
        {
          return false;
        }
      }
      return true;
    }

    std::string GetOrthancId(const Json::Value& state, const char* key)
    {
      const Json::Value& value = state[key];
      if (!value.isString() || !IsOrthancId(value.asString()))
      {
        throw BadField(key);
      }
      return value.asString();
    }

    std::string GetOptionalOrthancId(const Json::Value& state, const char* key)
    {
      if (!state.isMember(key) || (state[key].isString() && state[key].asString().empty()))
      {
        return "";
      }
      return GetOrthancId(state, key);
    }

    std::string GetString(const Json::Value& state, const char* key, const std::string& defaultValue)
    {
      if (!state.isMember(key))
      {
        return defaultValue;
      }
      if (!state[key].isString())
      {
        throw BadField(key);
      }
      return state[key].asString();
    }

    bool GetBool(const Json::Value& state, const char* key, bool defaultValue)
    {
      if (!state.isMember(key))
      {
        return defaultValue;
      }
      if (!state[key].isBool())
      {
        throw BadField(key);
      }
      return state[key].asBool();
    }

    const Json::Value& GetArray(const Json::Value& state, const char* key)
    {
      if (!state[key].isArray())
      {
        throw BadField(key);
      }
      return state[key];
    }

    const Json::Value& GetObject(const Json::Value& state, const char* key)
    {
      if (!state[key].isObject())
      {
        throw BadField(key);
      }
      return state[key];
    }

    std::set<std::string> GetOrthancIds(const Json::Value& state, const char* key)
    {
      std::set<std::string> ids;
      if (!state.isMember(key))
      {
        return ids;
      }
      const Json::Value& array = GetArray(state, key);
      for (Json::ArrayIndex i = 0; i < array.size(); i++)
      {
        if (!array[i].isString() || !IsOrthancId(array[i].asString()))
        {
          throw BadField(key);
        }
        ids.insert(array[i].asString());
      }
      return ids;
    }

    Json::Value ToArray(const std::set<std::string>& ids)
    {
      Json::Value array(Json::arrayValue);
      for (const std::string& id : ids)
      {
        array.append(id);
      }
      return array;
    }

    std::string JoinIds(const std::vector<std::string>& ids)
    {
      std::string result;
      for (size_t i = 0; i < ids.size(); i++)
      {
        if (i > 0)
        {
          result.push_back(',');
        }
        result += ids[i];
      }
      return result;
    }

    std::vector<std::string> GetIdList(const Json::Value& state, const char* key, bool allowEmptyEntries,
                                       size_t expectedCount)
    {
      if (!state.isObject() || !state.isMember(key))
      {
        throw BadField(key);
      }
      const std::string text = GetString(state, key);
      std::vector<std::string> ids;
      if (!text.empty() || expectedCount == 1)
      {
        size_t start = 0;
        for (;;)
        {
          const size_t comma = text.find(',', start);
          const std::string id = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
          if (!(id.empty() ? allowEmptyEntries : IsOrthancId(id)))
          {
            throw BadField(key);
          }
          ids.push_back(id);
          if (comma == std::string::npos)
          {
            break;
          }
          start = comma + 1;
        }
      }
      if (expectedCount != static_cast<size_t>(-1) && ids.size() != expectedCount)
      {
        throw BadField(key);
      }
      return ids;
    }
  }
}
