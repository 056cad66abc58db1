// PLACEHOLDER until sending lands (branch "send"): refuses everything.
#include "Sending/DestinationSender.h"

namespace Deid
{
  namespace Sending
  {
    InstanceOutcome ProcessInstance(const std::string& /* instanceId */,
                                    const Rules::Destination& destination,
                                    bool /* keepCopy */)
    {
      InstanceOutcome outcome;
      outcome.refused = true;
      outcome.error = "Sending to " + destination.Describe() + " is not implemented yet";
      return outcome;
    }
  }
}
