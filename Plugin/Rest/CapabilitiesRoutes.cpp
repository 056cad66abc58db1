#include "Rest/CapabilitiesRoutes.h"

#include "Configuration/Configuration.h"
#include "Orthanc/OrthancApi.h"

#include <string>
#include <vector>

#ifndef DEID_PLUGIN_VERSION
#define DEID_PLUGIN_VERSION "unknown"
#endif

namespace Deid
{
  using namespace OrthancApi;

  namespace
  {
    bool configuredPrivateKey_ = false;
    bool mappingLookup_ = false;

    bool HasRoute(const std::vector<std::string>& routes, const std::string& part)
    {
      for (const std::string& regex : routes)
      {
        if (regex.find(part) != std::string::npos)
        {
          return true;
        }
      }
      return false;
    }

    void GetCapabilities(RestAnswer& answer, const RestRequest& /* request */)
    {
      // Read at request time: every route is registered by then.
      const std::vector<std::string> routes = ListRoutes();
      Json::Value result(Json::objectValue);
      result["Version"] = DEID_PLUGIN_VERSION;
      result["Deidentification"] = HasRoute(routes, ")/([^/]+)/deidentify");
      result["Preview"] = HasRoute(routes, "/deidentify/preview");
      result["Reidentification"] = HasRoute(routes, "/reidentify");
      result["ConfiguredPrivateKey"] = result["Reidentification"].asBool() && configuredPrivateKey_;
      result["MappingLookup"] = mappingLookup_;   // the route is always there, answering 403 when off
      result["Send"] = HasRoute(routes, "/deidentify/send");
      result["RulesTest"] = HasRoute(routes, "/deidentification/rules/test");
      result["SourceMetadata"] = Configuration::Get().GetSourceMetadata();
      answer.AnswerJson(result);
    }
  }

  void RegisterCapabilitiesRoute(const Json::Value& section)
  {
    configuredPrivateKey_ = section.isObject() && section["PrivateKeyFile"].isString();
    mappingLookup_ = section.isObject() && section["EnableMappingLookup"].isBool() &&
                     section["EnableMappingLookup"].asBool();
    RegisterRoute("/deidentification/capabilities", OrthancPluginHttpMethod_Get, GetCapabilities);
  }
}
