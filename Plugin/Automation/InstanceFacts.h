// What the automatic rules read of a stored instance through Orthanc's REST
// API: its origin (metadata Origin, RemoteAET, CalledAET, RemoteIP), its
// study, whether it is the plugin's own output, and what a rule sees of it.
#pragma once

#include "Rules/RuleTypes.h"

#include <string>

namespace Deid
{
  namespace Automation
  {
    struct InstanceFacts
    {
      std::string instanceId;
      std::string studyId;
      bool ownOutput = false;        // made by this plugin: never triggers a rule
      Rules::RuleInput input;        // tags and origin; destination left empty
    };

    // False if the instance is gone (deleted meanwhile).
    bool ReadInstanceFacts(InstanceFacts& facts, const std::string& instanceId);
  }
}
