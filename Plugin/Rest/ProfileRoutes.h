// GET /deidentification/profiles: the named profiles of the configuration.
// GET /deidentification/options: the options this version implements.
#pragma once

namespace Deid
{
  void RegisterProfileRoutes();
}
