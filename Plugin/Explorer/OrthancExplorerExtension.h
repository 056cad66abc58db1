// The de-identification buttons and dialogs of Orthanc Explorer
// (/app/explorer.html): De-identify, Preview, Send de-identified to, and
// Re-identify on the patient, study, series and instance pages.
//
// The JavaScript, CSS and HTML templates are files of Resources/Explorer/,
// embedded at build time (Resources/EmbedExplorer.cmake). Orthanc Explorer
// takes a plugin's JavaScript only (OrthancPluginExtendOrthancExplorer), so
// the CSS and HTML travel in it as JSON strings, inserted by the script;
// nothing is downloaded at run time. The page learns what is on from
// GET /deidentification/capabilities (Rest/CapabilitiesRoutes).
#pragma once

#include <json/value.h>

#include <map>
#include <string>

namespace Deid
{
  // Resources/Explorer/* by file name (generated EmbeddedExplorer.cpp).
  const std::map<std::string, std::string>& EmbeddedExplorerAssets();

  // The script given to Orthanc Explorer: "window.DeidentificationExplorerAssets
  // = {name: content}" for every CSS and HTML asset, then every .js asset in
  // file-name order.
  std::string BuildOrthancExplorerScript(const std::map<std::string, std::string>& assets);

  // Registers GET /deidentification/capabilities and the Explorer script.
  void RegisterOrthancExplorer(const Json::Value& deidentificationSection);
}
