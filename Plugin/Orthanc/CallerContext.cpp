#include "Orthanc/CallerContext.h"

#include "Orthanc/OrthancApi.h"

#include "Engine/SafeText.h"

#include <openssl/evp.h>

#include <strings.h>

#include <vector>

namespace Deid
{
  namespace CallerContext
  {
    namespace
    {
      thread_local std::string current_ = "{}";
      thread_local std::string route_;
      bool recordUsername_ = false;

      // The user name of an "Authorization: Basic base64(user:password)" header.
      std::string BasicUser(const std::string& header)
      {
        const std::string scheme = "Basic ";
        if (header.size() <= scheme.size() || strncasecmp(header.c_str(), scheme.c_str(), scheme.size()) != 0)
        {
          return "";
        }
        std::string encoded = header.substr(scheme.size());
        while (!encoded.empty() && encoded.back() == ' ')
        {
          encoded.pop_back();
        }
        if (encoded.empty() || encoded.size() % 4 != 0)
        {
          return "";
        }

        std::vector<unsigned char> decoded(encoded.size());
        int n = EVP_DecodeBlock(decoded.data(), reinterpret_cast<const unsigned char*>(encoded.data()),
                                static_cast<int>(encoded.size()));
        if (n <= 0)
        {
          return "";
        }
        std::string text(reinterpret_cast<const char*>(decoded.data()), static_cast<size_t>(n));
        size_t colon = text.find(':');
        return colon == std::string::npos ? std::string() : text.substr(0, colon);   // never the password
      }

      const char* MethodName(OrthancPluginHttpMethod method)
      {
        switch (method)
        {
          case OrthancPluginHttpMethod_Get: return "GET";
          case OrthancPluginHttpMethod_Post: return "POST";
          case OrthancPluginHttpMethod_Put: return "PUT";
          case OrthancPluginHttpMethod_Delete: return "DELETE";
          default: return "?";
        }
      }

      int32_t Filter(OrthancPluginHttpMethod method,
                     const char* uri,
                     const char* ip,
                     uint32_t headersCount,
                     const char* const* headersKeys,
                     const char* const* headersValues,
                     uint32_t /* getArgumentsCount */,
                     const char* const* /* getArgumentsKeys */,
                     const char* const* /* getArgumentsValues */)
      {
        try
        {
          route_ = std::string(MethodName(method)) + " " + SafeText::Escape(uri == nullptr ? "" : uri, 256);
          Json::Value caller(Json::objectValue);
          if (ip != nullptr)
          {
            caller["RemoteIP"] = ip;
          }
          for (uint32_t i = 0; i < headersCount; i++)
          {
            if (recordUsername_ && strcasecmp(headersKeys[i], "authorization") == 0)
            {
              std::string user = BasicUser(headersValues[i]);
              if (!user.empty())
              {
                caller["Username"] = user;
              }
            }
            else if (strcasecmp(headersKeys[i], "x-forwarded-for") == 0)
            {
              caller["ForwardedFor"] = headersValues[i];
            }
          }
          current_ = OrthancApi::WriteJson(caller, false);
        }
        catch (...)
        {
          current_ = "{}";
          route_.clear();
        }
        return 1;   // only observes: never forbids
      }
    }


    void Register(bool recordUsername)
    {
      recordUsername_ = recordUsername;
      OrthancPluginRegisterIncomingHttpRequestFilter2(OrthancApi::GetContext(), Filter);
    }


    std::string GetCurrent()
    {
      return current_;
    }


    std::string GetCurrentRoute()
    {
      return route_;
    }
  }
}
