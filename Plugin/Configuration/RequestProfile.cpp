#include "Configuration/RequestProfile.h"

#include "Engine/DeidError.h"
#include "Engine/SafeText.h"

namespace Deid
{
  RequestProfile ResolveRequestProfile(const Json::Value& body, const RequestCheck& check)
  {
    const Json::Value& profileName = body["Profile"];
    const Json::Value& options = body["Options"];
    const Configuration& configuration = Configuration::Get();

    const NamedProfile* named = nullptr;
    if (profileName.isNull())
    {
      named = &configuration.GetDefaultProfile();
    }
    else if (!profileName.isString())
    {
      throw DeidError(ErrorCode::BadOption, "\"Profile\" must be the name of a configured profile");
    }
    else
    {
      named = configuration.FindProfile(profileName.asString());
      if (named == nullptr)
      {
        throw DeidError(ErrorCode::BadOption, "Unknown de-identification profile: " +
                        SafeText::Quote(profileName.asString()) + " (see GET /deidentification/profiles)");
      }
    }

    OptionSet extra = Configuration::ParseOptions(options, "Request");   // DeidError(BadOption)

    if (check)
    {
      check(*named, !profileName.isNull(), extra);
    }

    RequestProfile r;
    r.profileName = named->name;
    r.options = named->options;
    for (Option o : extra.List())
    {
      r.options.Add(o);
    }

    if (r.options == named->options)
    {
      r.profile = named->profile;
    }
    else
    {
      // Throws DeidError for a refused option or combination.
      r.profile = std::make_shared<Profile>(configuration.GetTables(), r.options, named->name,
                                           named->profile->GetBurnedInTextPolicy());
    }
    return r;
  }
}
