// Follows Orthanc's change log (GET /changes) from a cursor kept in the key
// store and turns NewInstance / StableStudy changes into persisted work
// items. Idempotent: work items have unique keys, so reading a change twice
// (after a restart, or on two nodes sharing one index) adds nothing.
#pragma once

#include "Automation/AutomaticRules.h"
#include "KeyStore/IKeyStore.h"

#include <cstdint>
#include <set>
#include <string>

namespace Deid
{
  namespace Automation
  {
    class ChangeFollower
    {
    public:
      static constexpr const char* CURSOR = "automatic-changes";

      ChangeFollower(const AutomaticSettings& settings, IKeyStore& store);

      // Reads every change since the cursor, enqueues, advances the cursor.
      // Throws on REST or key store errors (the next call starts again).
      void Poll();

    private:
      const AutomaticSettings& settings_;
      IKeyStore& store_;
      std::set<int64_t> handled_;   // changes of the overlap window already handled by this process

      void HandleNewInstance(const std::string& instanceId);
      void Enqueue(const AutomaticRule& rule, const std::string& resource, const std::string& level,
                   const std::string& study, int64_t notBefore);
    };

    int64_t NowSeconds();
  }
}
