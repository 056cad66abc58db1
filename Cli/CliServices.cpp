#include "CliServices.h"

#include "CommandLine.h"

#include "Configuration/Configuration.h"
#include "Configuration/RequestProfile.h"
#include "Operations/DeidentificationEvents.h"
#include "Operations/EncryptionRecipients.h"
#include "Operations/KeyStoreService.h"

#include "Engine/DeidError.h"
#include "Engine/NestingDepth.h"
#include "Engine/ProfileTables.h"
#include "Engine/SafeText.h"

#include <json/reader.h>
#include <json/writer.h>

#include <openssl/crypto.h>

#include <cstdlib>
#include <memory>
#include <sstream>

namespace Deid
{
  namespace Cli
  {
    namespace
    {
      Json::Value ParseJson(const std::string& text, const std::string& what)
      {
        Json::CharReaderBuilder builder;   // comments allowed, as in Orthanc configuration files
        Json::Value value;
        std::string errors;
        std::istringstream in(text);
        if (!Json::parseFromStream(builder, in, &value, &errors))
        {
          throw UsageError(what + " is not valid JSON: " + errors);
        }
        return value;
      }

      std::string Compact(const Json::Value& value)
      {
        Json::StreamWriterBuilder builder;
        builder["indentation"] = "";
        return Json::writeString(builder, value);
      }

      // Who ran the command, for the audit trail (like the plugin's caller).
      std::string DescribeCaller()
      {
        Json::Value caller(Json::objectValue);
        caller["Command"] = "orthanc-deidentify";
        const char* user = std::getenv("USER");
        if (user != nullptr)
        {
          caller["User"] = user;
        }
        return Compact(caller);
      }
    }


    Json::Value ParseRequest(const std::string& text, const std::string& command)
    {
      if (text.empty())
      {
        return Json::Value(Json::objectValue);
      }
      Json::Value request = ParseJson(text, "--request");
      if (!request.isObject())
      {
        throw UsageError("--request must be a JSON object");
      }

      // The keys of POST /instances/{id}/deidentify (or /reidentify); the
      // keys about Orthanc jobs and storage are accepted and mean nothing here.
      static const char* const DEIDENTIFY_KEYS[] = { "Profile", "Options", "Project", "Recipients", "Cipher",
                                                     "Store", "KeepSource", "Priority", "Synchronous" };
      static const char* const REIDENTIFY_KEYS[] = { "PrivateKey", "Password", "Store", "Priority", "Synchronous" };
      for (const std::string& key : request.getMemberNames())
      {
        bool known = false;
        if (command == "deidentify")
        {
          for (const char* k : DEIDENTIFY_KEYS) known = known || key == k;
        }
        else
        {
          for (const char* k : REIDENTIFY_KEYS) known = known || key == k;
        }
        if (!known)
        {
          throw UsageError("--request: unknown key " + SafeText::Quote(key) + " for " + command);
        }
      }
      return request;
    }


    CliServices::CliServices(const std::string& configPath)
    {
      Json::Value orthanc(Json::objectValue);
      if (configPath.empty())
      {
        // No configuration: a key store in memory, gone at the end of the run.
        orthanc[Configuration::SECTION]["KeyStore"]["Type"] = "SQLite";
        orthanc[Configuration::SECTION]["KeyStore"]["Path"] = ":memory:";
      }
      else
      {
        orthanc = ParseJson(ReadWholeFile(configPath, "the configuration file"), "the configuration file " + configPath);
        if (!orthanc.isObject())
        {
          throw UsageError("the configuration file " + configPath + " must hold a JSON object");
        }
        hasConfiguration_ = true;
      }

      try
      {
        std::unique_ptr<Configuration> configuration = Configuration::Parse(orthanc, ProfileTables::LoadEmbedded());
        SetMaximumNestingDepth(configuration->GetMaximumNestingDepth());
        Configuration::SetGlobal(std::move(configuration));
        KeyStoreService::Initialize(orthanc, Configuration::Get().GetSection());
        EncryptionRecipients::Initialize(Configuration::Get().GetSection());
      }
      catch (const ConfigurationError& e)
      {
        throw UsageError(std::string("bad configuration: ") + e.what());
      }
      catch (const DeidError& e)
      {
        throw UsageError(std::string("cannot start: ") + e.what());
      }

      description_ = hasConfiguration_ ? KeyStoreService::Get().GetDescription() :
        "no --config: built-in defaults, keys kept in memory only (pseudonyms, UIDs and date offsets "
        "are consistent within this run only)";
    }


    CliServices::~CliServices()
    {
      EncryptionRecipients::Finalize();
      KeyStoreService::Finalize();
      Configuration::SetGlobal(nullptr);
    }


    OperationDescription CliServices::DescribeDeidentification(const Json::Value& request) const
    {
      OperationDescription d;
      d.kind = "cli";
      d.request = request;
      d.caller = DescribeCaller();
      try
      {
        // The command line is trusted like the configuration (no caller policy).
        RequestProfile resolved = ResolveRequestProfile(request);
        d.profileName = resolved.profileName;
        d.profile = resolved.profile;
        KeyStoreService::Get().ResolveProject(d);   // an unknown project
        EncryptionRecipients::ForOperation(d);      // an unknown recipient or cipher
      }
      catch (const DeidError& e)
      {
        throw UsageError(std::string("--request: ") + e.what());
      }
      return d;
    }


    OperationDescription CliServices::DescribeReidentification(const Json::Value& request) const
    {
      OperationDescription d;
      d.kind = "reidentify";   // the audit's operation "reidentify" (KeyStoreService::RecordOperation)
      d.request = request;
      d.request.removeMember("PrivateKey");
      d.request.removeMember("Password");
      d.caller = DescribeCaller();
      return d;
    }


    std::shared_ptr<const RecipientPrivateKey> CliServices::GetReidentificationKey(const Json::Value& request,
                                                                                  const std::string& keyFile,
                                                                                  const std::string& passwordFile) const
    {
      const Json::Value& section = Configuration::Get().GetSection();
      if (hasConfiguration_)
      {
        const Json::Value& enabled = section["EnableReidentification"];
        if (!enabled.isBool() || !enabled.asBool())
        {
          throw UsageError("re-identification is disabled by the configuration "
                           "(set Deidentification.EnableReidentification to true to enable it)");
        }
      }

      std::string pem;
      std::string password;
      std::string where;
      if (!keyFile.empty())
      {
        pem = ReadWholeFile(keyFile, "the private key file");
        password = passwordFile.empty() ? "" : ReadWholeFile(passwordFile, "the password file");
        while (!password.empty() && (password.back() == '\n' || password.back() == '\r'))
        {
          password.pop_back();
        }
        where = "--key";
      }
      else if (request.isMember("PrivateKey"))
      {
        if (!request["PrivateKey"].isString() || (request.isMember("Password") && !request["Password"].isString()))
        {
          throw UsageError("\"PrivateKey\" must be the PEM text of the private key and \"Password\" a string");
        }
        pem = request["PrivateKey"].asString();
        password = request.isMember("Password") ? request["Password"].asString() : "";
        where = "\"PrivateKey\"";
      }
      else if (section["PrivateKeyFile"].isString())
      {
        pem = ReadWholeFile(section["PrivateKeyFile"].asString(), "Deidentification.PrivateKeyFile");
        password = section["PrivateKeyPassword"].isString() ? section["PrivateKeyPassword"].asString() : "";
        where = "Deidentification.PrivateKeyFile";
      }
      else
      {
        throw UsageError("re-identification needs the private key of a recipient: --key FILE");
      }

      std::shared_ptr<const RecipientPrivateKey> key;
      try
      {
        key = std::make_shared<RecipientPrivateKey>(pem, password);
      }
      catch (const DeidError& e)
      {
        OPENSSL_cleanse(&pem[0], pem.size());
        throw UsageError(where + ": " + e.what());   // never names the key
      }
      if (!pem.empty())
      {
        OPENSSL_cleanse(&pem[0], pem.size());
      }
      if (!password.empty())
      {
        OPENSSL_cleanse(&password[0], password.size());
      }
      return key;
    }


    void CliServices::Audit(const OperationDescription& operation, size_t instances, size_t failed) const
    {
      if (!hasConfiguration_ || !KeyStoreService::IsInitialized())
      {
        return;   // the in-memory store is gone at the end of the run
      }
      OperationReport report;
      report.operation = operation;
      report.operation.request.removeMember("PrivateKey");
      report.operation.request.removeMember("Password");
      report.instancesCount = instances;
      report.failedInstancesCount = failed;
      KeyStoreService::Get().RecordOperation(report);   // never throws
    }
  }
}
