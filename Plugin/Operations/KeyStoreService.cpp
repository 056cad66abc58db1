#include "Operations/KeyStoreService.h"

#include "Configuration/Configuration.h"
#include "Operations/ServiceLog.h"

#include "Engine/DeidError.h"
#include "Engine/SafeText.h"

#include <json/writer.h>

#include <filesystem>

namespace Deid
{
  namespace
  {
    std::unique_ptr<KeyStoreService> global_;

    // The providers of one operation: the defaults (text cleaner, pixel
    // cleaner) with the keyed UID / pseudonym / date offset providers.
    class KeyedOperationProviders : public OperationProviders
    {
    private:
      std::unique_ptr<OperationProviders> defaults_;
      KeyedProviderSet keyed_;

    public:
      KeyedOperationProviders(std::unique_ptr<OperationProviders> defaults, KeyedProviderSet keyed) :
        defaults_(std::move(defaults)),
        keyed_(std::move(keyed))
      {
        context_ = defaults_->GetContext();
        context_.uids = keyed_.uids.get();
        context_.pseudonyms = keyed_.pseudonyms.get();
        context_.dateOffsets = keyed_.dateOffsets.get();
      }
    };

    std::string Where(const std::string& path)
    {
      return "Deidentification." + path;
    }

    std::string GetString(const Json::Value& object, const char* key, const std::string& defaultValue,
                          const std::string& where)
    {
      if (!object.isMember(key))
      {
        return defaultValue;
      }
      if (!object[key].isString())
      {
        throw ConfigurationError(Where(where + key) + " must be a string");
      }
      return object[key].asString();
    }

    // Reads "Pseudonym", "UidRoot" and "DateOffsetRange" of a section over
    // the given defaults.
    ProjectSettings ReadProjectSettings(const Json::Value& section, const ProjectSettings& defaults,
                                        const std::string& name, const std::string& where)
    {
      if (!section.isNull() && !section.isObject())
      {
        throw ConfigurationError(Where(where) + " must be a JSON object");
      }

      ProjectSettings s = defaults;
      s.name = name;
      const std::string prefix = where.empty() ? "" : where + ".";

      if (section.isMember("Pseudonym"))
      {
        const Json::Value& p = section["Pseudonym"];
        if (!p.isObject())
        {
          throw ConfigurationError(Where(prefix + "Pseudonym") + " must be an object "
                                   "such as { \"Prefix\": \"ANON\", \"Digits\": 8 }");
        }
        s.pseudonymPrefix = GetString(p, "Prefix", s.pseudonymPrefix, prefix + "Pseudonym.");
        if (p.isMember("Digits"))
        {
          if (!p["Digits"].isUInt())
          {
            throw ConfigurationError(Where(prefix + "Pseudonym.Digits") + " must be an integer between 1 and 18");
          }
          s.pseudonymDigits = p["Digits"].asUInt();
        }
      }

      s.uidRoot = GetString(section, "UidRoot", s.uidRoot, prefix);

      if (section.isMember("DateOffsetRange"))
      {
        const Json::Value& r = section["DateOffsetRange"];
        if (!r.isArray() || r.size() != 2 || !r[0].isInt() || !r[1].isInt())
        {
          throw ConfigurationError(Where(prefix + "DateOffsetRange") + " must be [ min, max ] in days");
        }
        s.minDateOffsetDays = r[0].asInt();
        s.maxDateOffsetDays = r[1].asInt();
      }

      try
      {
        s.Validate();
      }
      catch (const DeidError& e)
      {
        throw ConfigurationError(std::string("Deidentification: ") + e.what());
      }
      return s;
    }

    std::string JoinOptions(const OperationDescription& operation)
    {
      std::string result;
      if (operation.profile)
      {
        for (Option o : operation.profile->GetOptions().List())
        {
          if (!result.empty())
          {
            result += ",";
          }
          result += GetOptionName(o);
        }
      }
      return result;
    }

    // Compact JSON (the UID scope depends on it: must stay byte for byte the same).
    std::string WriteCompactJson(const Json::Value& value)
    {
      Json::StreamWriterBuilder builder;
      builder["indentation"] = "";
      return Json::writeString(builder, value);
    }

    std::string JsonArray(const std::vector<std::string>& values)
    {
      Json::Value a(Json::arrayValue);
      for (const std::string& v : values)
      {
        a.append(v);
      }
      return WriteCompactJson(a);
    }
  }


  void KeyStoreService::Initialize(const Json::Value& orthanc, const Json::Value& section)
  {
    std::unique_ptr<KeyStoreService> service(new KeyStoreService);

    // --- The store ---
    const Json::Value& ks = section["KeyStore"];
    if (!ks.isNull() && !ks.isObject())
    {
      throw ConfigurationError("Deidentification.KeyStore must be a JSON object");
    }

    KeyStoreConfiguration c;
    c.type = GetString(ks, "Type", "SQLite", "KeyStore.");
    const std::string originals = GetString(ks, "Originals", "Encrypted", "KeyStore.");
    if (originals == "Encrypted")
    {
      c.originals = OriginalStorage::Encrypted;
    }
    else if (originals == "HashOnly")
    {
      c.originals = OriginalStorage::HashOnly;
    }
    else
    {
      throw ConfigurationError("Deidentification.KeyStore.Originals must be \"Encrypted\" or \"HashOnly\"");
    }

    const std::string masterKeyFile = GetString(ks, "MasterKeyFile", "", "KeyStore.");
    if (!masterKeyFile.empty())
    {
      try
      {
        c.masterKey = ReadMasterKeyFile(masterKeyFile);
      }
      catch (const DeidError& e)
      {
        throw ConfigurationError(std::string("Deidentification.KeyStore.MasterKeyFile: ") + e.what());
      }
    }

    if (c.type == "SQLite")
    {
      std::string storage = orthanc.isObject() && orthanc["StorageDirectory"].isString() ?
        orthanc["StorageDirectory"].asString() : "OrthancStorage";
      std::string defaultPath = (std::filesystem::path(storage) / DEFAULT_SQLITE_FILE).string();
      c.path = GetString(ks, "Path", defaultPath, "KeyStore.");
      std::filesystem::path parent = std::filesystem::path(c.path).parent_path();
      if (!parent.empty())
      {
        std::error_code ignored;
        std::filesystem::create_directories(parent, ignored);   // Orthanc may not have made it yet
      }
      service->description_ = "SQLite key store " + c.path;
    }
    else if (c.type == "PostgreSQL")
    {
      c.connectionString = GetString(ks, "ConnectionString", "", "KeyStore.");
      if (c.connectionString.empty())
      {
        throw ConfigurationError("Deidentification.KeyStore.ConnectionString (a libpq conninfo) is "
                                 "required with \"Type\": \"PostgreSQL\"");
      }
      service->description_ = "PostgreSQL key store";
    }
    else
    {
      throw ConfigurationError("Deidentification.KeyStore.Type must be \"SQLite\" or \"PostgreSQL\"");
    }

    // --- Projects ---
    ProjectSettings defaults = ReadProjectSettings(section, ProjectSettings(), DEFAULT_PROJECT, "");
    service->projects_[DEFAULT_PROJECT] = defaults;

    const Json::Value& projects = section["Projects"];
    if (!projects.isNull())
    {
      if (!projects.isObject())
      {
        throw ConfigurationError("Deidentification.Projects must be a JSON object (name -> settings)");
      }
      for (const std::string& name : projects.getMemberNames())
      {
        if (name.empty())
        {
          throw ConfigurationError("Deidentification.Projects: a project name cannot be empty");
        }
        service->projects_[name] = ReadProjectSettings(projects[name], defaults, name, "Projects." + name);
      }
    }

    // A profile's "Project" must exist.
    const Json::Value& profiles = section["Profiles"];
    if (profiles.isObject())
    {
      for (const std::string& name : profiles.getMemberNames())
      {
        const Json::Value& project = profiles[name]["Project"];
        if (!project.isNull() &&
            (!project.isString() || service->projects_.count(project.asString()) == 0))
        {
          throw ConfigurationError("Deidentification.Profiles." + name + ".Project must name a project of "
                                   "Deidentification.Projects (or \"default\")");
        }
      }
    }

    if (section.isMember("EnableMappingLookup"))
    {
      if (!section["EnableMappingLookup"].isBool())
      {
        throw ConfigurationError("Deidentification.EnableMappingLookup must be true or false");
      }
      service->mappingLookup_ = section["EnableMappingLookup"].asBool();
    }

    service->store_ = OpenKeyStore(c);
    if (!c.masterKey.empty())
    {
      service->description_ += " (project secrets wrapped with the master key)";
    }

    // Create the secrets of the configured projects now: an unreachable or
    // read-only store is reported at start-up, not at the first request.
    for (const auto& p : service->projects_)
    {
      service->store_->GetOrCreateProjectSecret(p.first);
    }

    global_ = std::move(service);
  }


  void KeyStoreService::Finalize()
  {
    global_.reset();
  }


  bool KeyStoreService::IsInitialized()
  {
    return global_ != nullptr;
  }


  KeyStoreService& KeyStoreService::Get()
  {
    if (!global_)
    {
      throw std::logic_error("The de-identification key store is not initialized");
    }
    return *global_;
  }


  const ProjectSettings& KeyStoreService::GetProject(const std::string& name) const
  {
    auto found = projects_.find(name);
    if (found == projects_.end())
    {
      throw DeidError(ErrorCode::BadOption, "Unknown de-identification project " + SafeText::Quote(name) +
                      " (configure it in Deidentification.Projects)");
    }
    return found->second;
  }


  std::vector<std::string> KeyStoreService::GetProjectNames() const
  {
    std::vector<std::string> names;
    for (const auto& p : projects_)
    {
      names.push_back(p.first);
    }
    return names;
  }


  std::string KeyStoreService::ResolveProject(const OperationDescription& operation) const
  {
    std::string project = DEFAULT_PROJECT;

    const Json::Value& profiles = Configuration::Get().GetSection()["Profiles"];
    if (profiles.isObject() && profiles.isMember(operation.profileName) &&
        profiles[operation.profileName]["Project"].isString())
    {
      project = profiles[operation.profileName]["Project"].asString();
    }

    if (operation.request.isObject() && operation.request.isMember("Project"))
    {
      if (!operation.request["Project"].isString())
      {
        throw DeidError(ErrorCode::BadOption, "\"Project\" must be the name of a configured project");
      }
      project = operation.request["Project"].asString();
    }

    GetProject(project);   // throws if unknown
    return project;
  }


  std::unique_ptr<OperationProviders> KeyStoreService::WrapProviders(std::unique_ptr<OperationProviders> defaults,
                                                                     const OperationDescription& operation)
  {
    const ProjectSettings& project = GetProject(ResolveProject(operation));

    // Replacement UIDs depend on what makes the content of the copy: the
    // profile, its options and the recipients of the Encrypted Attributes
    // Sequence. Different versions of one instance never share a SOP Instance
    // UID; the same profile gives the same UIDs in every job and on every node.
    std::string scope = "profile=" + operation.profileName + ";options=" + JoinOptions(operation);
    if (operation.request.isObject() && operation.request.isMember("Recipients"))
    {
      scope += ";recipients=" + WriteCompactJson(operation.request["Recipients"]);
    }

    return std::unique_ptr<OperationProviders>(
      new KeyedOperationProviders(std::move(defaults), CreateKeyedProviders(*store_, project, scope)));
  }


  void KeyStoreService::RecordOperation(const OperationReport& report)
  {
    try
    {
      const OperationDescription& op = report.operation;

      AuditRecord r;
      r.operation = (op.kind == "reidentify" ? "reidentify" : "deidentify");
      r.route = op.kind + (op.level.empty() ? std::string() : " " + op.level);
      try
      {
        r.project = ResolveProject(op);
      }
      catch (const DeidError&)
      {
        r.project = "";   // the operation failed before using a project
      }
      r.profile = op.profileName;
      r.options = JoinOptions(op);
      r.source = JsonArray(op.sourceId.empty() ? std::vector<std::string>() :
                           std::vector<std::string>{ op.sourceId });
      r.result = JsonArray(report.newResources.empty() ? report.newInstances : report.newResources);
      r.caller = op.caller;
      r.status = report.failedInstancesCount == 0 ? "Success" :
        (report.failedInstancesCount >= report.instancesCount ? "Failure" : "Partial");
      if (!report.status.empty())
      {
        r.status = report.status;   // "Refused"
      }

      Json::Value details(Json::objectValue);
      details["Kind"] = op.kind;
      if (!report.jobId.empty())
      {
        details["JobID"] = report.jobId;
      }
      details["Instances"] = static_cast<Json::UInt64>(report.instancesCount);
      details["FailedInstances"] = static_cast<Json::UInt64>(report.failedInstancesCount);
      details["NewInstances"] = static_cast<Json::UInt64>(report.newInstances.size());
      details["Stored"] = report.stored;
      details["SourceDeleted"] = report.sourceDeleted;
      if (!report.destination.empty())
      {
        // A send: where to, what the rules decided, how many went.
        r.operation = "send";
        const size_t notSent = report.failedInstancesCount + report.refusedInstancesCount;
        r.status = notSent == 0 ? "Success" : (report.sentInstancesCount == 0 ? "Failure" : "Partial");
        if (op.profileName.empty() && !report.profiles.empty())
        {
          r.profile.clear();
          for (const std::string& profile : report.profiles)
          {
            r.profile += (r.profile.empty() ? "" : ",") + profile;
          }
        }
        details["Destination"] = report.destination;
        details["SentInstances"] = static_cast<Json::UInt64>(report.sentInstancesCount);
        details["RefusedInstances"] = static_cast<Json::UInt64>(report.refusedInstancesCount);
        details["Rules"] = Json::arrayValue;
        for (const std::string& rule : report.rules)
        {
          details["Rules"].append(rule);
        }
      }
      if (!report.reason.empty())
      {
        details["Reason"] = report.reason;
      }
      if (!report.pixelRegions.empty())
      {
        Json::Value regions(Json::objectValue);   // [x, y, width, height] per instance
        for (const auto& instance : report.pixelRegions)
        {
          Json::Value list(Json::arrayValue);
          for (const PixelRectangle& p : instance.second)
          {
            Json::Value r(Json::arrayValue);
            r.append(p.x);
            r.append(p.y);
            r.append(p.width);
            r.append(p.height);
            list.append(r);
          }
          regions[instance.first] = list;
        }
        details["PixelRegions"] = regions;
      }
      r.details = WriteCompactJson(details);

      store_->AppendAudit(r);
    }
    catch (const std::exception& e)
    {
      ServiceLog::Error(std::string("De-identification: cannot write the audit trail: ") + e.what());
    }
    catch (...)
    {
      ServiceLog::Error("De-identification: cannot write the audit trail");
    }
  }
}
