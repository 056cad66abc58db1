#pragma once

namespace Deid
{
  // GET /deidentification/automatic, POST /deidentification/automatic/retry
  void RegisterAutomaticRoutes();
}
