// Runs one claimed work item of the automatic rules: a de-identified copy
// kept here ("Store"), a send to a destination (through Sending), or the
// deletion of the original once every other action on it has succeeded.
#pragma once

#include "Automation/AutomaticRules.h"
#include "KeyStore/IKeyStore.h"
#include "Sending/DestinationSender.h"

#include <string>
#include <vector>

namespace Deid
{
  namespace Automation
  {
    class ActionRunner
    {
    public:
      ActionRunner(const AutomaticSettings& settings, IKeyStore& store);

      // Runs the item and records its new state (done, pending again,
      // failed). Never throws.
      void Run(const WorkItem& item);

    private:
      const AutomaticSettings& settings_;
      IKeyStore& store_;

      // Throws with a message free of patient data, marked permanent for
      // failures that a retry cannot fix (a rule refuses).
      void RunOnInstance(const std::string& instanceId, const Rules::Destination& destination,
                         std::vector<Sending::InstanceOutcome>& outcomes);
      void RunDelete(const WorkItem& item);
    };
  }
}
