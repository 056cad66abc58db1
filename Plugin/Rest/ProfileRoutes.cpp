#include "Rest/ProfileRoutes.h"

#include "Configuration/Configuration.h"
#include "Orthanc/OrthancApi.h"

namespace Deid
{
  using namespace OrthancApi;

  static Json::Value ListOptions(const OptionSet& options)
  {
    Json::Value names(Json::arrayValue);
    for (Option o : options.List())
    {
      names.append(GetOptionName(o));
    }
    return names;
  }

  static void GetProfiles(RestAnswer& answer, const RestRequest& /* request */)
  {
    const Configuration& configuration = Configuration::Get();

    Json::Value result(Json::objectValue);
    for (const auto& entry : configuration.GetProfiles())
    {
      const NamedProfile& p = entry.second;
      Json::Value profile(Json::objectValue);
      profile["Options"] = ListOptions(p.options);
      profile["Description"] = p.description;
      profile["DeidentificationMethod"] = p.profile->GetMethodDescription();
      Json::Value codes(Json::arrayValue);
      for (const MethodCode& code : p.profile->GetMethodCodes())
      {
        codes.append(code.codeValue);
      }
      profile["MethodCodes"] = codes;
      profile["Default"] = (entry.first == configuration.GetDefaultProfileName());
      // PS3.15 E.3.1: true if instances that may carry burned-in text pass uncleaned.
      profile["AcceptBurnedInAnnotationRisk"] = p.profile->GetBurnedInTextPolicy().acceptRisk;
      result[entry.first] = profile;
    }
    answer.AnswerJson(result);
  }

  static void GetOptions(RestAnswer& answer, const RestRequest& /* request */)
  {
    Json::Value result(Json::arrayValue);
    for (Option o : AllOptions())
    {
      Json::Value option(Json::objectValue);
      option["Name"] = GetOptionName(o);
      option["Code"] = GetOptionCodeValue(o);
      option["Implemented"] = IsOptionImplemented(o);
      result.append(option);
    }
    answer.AnswerJson(result);
  }

  void RegisterProfileRoutes()
  {
    RegisterRoute("/deidentification/profiles", OrthancPluginHttpMethod_Get, GetProfiles);
    RegisterRoute("/deidentification/options", OrthancPluginHttpMethod_Get, GetOptions);
  }
}
