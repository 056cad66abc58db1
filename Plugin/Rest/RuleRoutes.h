// POST /deidentification/rules/test: which rule and profile would apply to a
// resource (or an uploaded instance) for a destination, and why, without
// doing anything. GET /deidentification/rules: the configured rules.
#pragma once

namespace Deid
{
  void RegisterRuleRoutes();
}
