#include "Explorer/OrthancExplorerExtension.h"

#include "Orthanc/OrthancApi.h"
#include "Rest/CapabilitiesRoutes.h"

namespace Deid
{
  static bool EndsWith(const std::string& s, const std::string& suffix)
  {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  }

  std::string BuildOrthancExplorerScript(const std::map<std::string, std::string>& assets)
  {
    Json::Value data(Json::objectValue);
    std::string scripts;
    for (const auto& asset : assets)   // std::map: file-name order
    {
      if (EndsWith(asset.first, ".js"))
      {
        scripts += "\n// ---- " + asset.first + " ----\n" + asset.second + "\n";
      }
      else
      {
        data[asset.first] = asset.second;
      }
    }
    return "// De-identification plugin: Orthanc Explorer buttons (Resources/Explorer/)\n"
           "window.DeidentificationExplorerAssets = " + OrthancApi::WriteJson(data, false) + ";\n" +
           scripts;
  }

  void RegisterOrthancExplorer(const Json::Value& deidentificationSection)
  {
    RegisterCapabilitiesRoute(deidentificationSection);
    OrthancApi::ExtendOrthancExplorer(BuildOrthancExplorerScript(EmbeddedExplorerAssets()));
  }
}
