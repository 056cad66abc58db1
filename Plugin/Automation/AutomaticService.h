// The automatic rules at run time: a background worker, started in
// OrthancPluginInitialize() and stopped in OrthancPluginFinalize(), that
// follows Orthanc's change log (ChangeFollower) and runs the persisted work
// items (ActionRunner). Woken by Orthanc's change callback, and every
// PollInterval seconds (changes made by other nodes sharing the index).
#pragma once

#include "Automation/AutomaticRules.h"

#include <json/value.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace Deid
{
  namespace Automation
  {
    class AutomaticService
    {
    public:
      // Reads "Deidentification.Automatic"; starts the worker if enabled.
      // Needs the key store (KeyStoreService). Throws ConfigurationError.
      static void Initialize(const Json::Value& section, const Json::Value& orthancConfiguration);
      static void Finalize();
      static AutomaticService* Get();   // nullptr before Initialize

      bool IsEnabled() const { return settings_.enabled; }
      const AutomaticSettings& GetSettings() const { return settings_; }

      // GET /deidentification/automatic: counts and the pending and failed items.
      Json::Value Describe(size_t limit) const;

      // Failed items back to pending; returns how many.
      uint64_t RetryFailed();

      void Wake();

    private:
      AutomaticSettings settings_;
      std::string node_;               // this process, as owner of claims
      std::thread thread_;
      mutable std::mutex mutex_;
      std::condition_variable wake_;
      bool started_ = false;           // OrthancStarted seen: the REST API is usable
      bool stopping_ = false;
      bool pending_ = false;           // a wake-up arrived while busy

      void Start();
      void Stop();
      void Loop();
    };
  }
}
