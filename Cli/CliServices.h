// The plugin's Orthanc-independent services, started for one run of the
// command-line front end from the same configuration file the plugin reads:
// Configuration (profiles, options), KeyStoreService (projects, key store,
// audit), EncryptionRecipients (PS3.15 E.1.1). Without a configuration file:
// the built-in defaults and an in-memory key store (pseudonyms, UIDs and date
// offsets consistent within the run only).
#pragma once

#include "Operations/ProviderFactory.h"

#include "Engine/Reidentifier.h"

#include <json/value.h>

#include <memory>
#include <string>

namespace Deid
{
  namespace Cli
  {
    class CliServices
    {
    public:
      // Throws UsageError for an unreadable or invalid configuration.
      explicit CliServices(const std::string& configPath);
      ~CliServices();

      bool HasConfiguration() const { return hasConfiguration_; }
      const std::string& GetDescription() const { return description_; }

      // The operation of a request body (-r), checked as the plugin's trusted
      // path does (no caller policy): profile, options, project, recipients,
      // cipher. Throws UsageError.
      OperationDescription DescribeDeidentification(const Json::Value& request) const;

      // The operation of a re-identification, for the audit (no secret).
      OperationDescription DescribeReidentification(const Json::Value& request) const;

      // The private key of a re-identification: -k FILE, else the request's
      // "PrivateKey" / "Password", else the configured PrivateKeyFile. With a
      // configuration, its "EnableReidentification" must be true. Throws UsageError.
      std::shared_ptr<const RecipientPrivateKey> GetReidentificationKey(const Json::Value& request,
                                                                        const std::string& keyFile,
                                                                        const std::string& passwordFile) const;

      // One audit record in the key store (counts only, no patient data).
      void Audit(const OperationDescription& operation, size_t instances, size_t failed) const;

    private:
      bool hasConfiguration_ = false;
      std::string description_;
    };

    // Parses -r: empty is {}. Throws UsageError.
    Json::Value ParseRequest(const std::string& text, const std::string& command);
  }
}
