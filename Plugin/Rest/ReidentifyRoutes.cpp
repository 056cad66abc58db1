#include "Rest/ReidentifyRoutes.h"

#include "Orthanc/CallerContext.h"
#include "Configuration/Configuration.h"
#include "Operations/DeidentificationEvents.h"
#include "Operations/EncryptionRecipients.h"
#include "Operations/KeyStoreService.h"
#include "Orthanc/KnownKeys.h"
#include "Orthanc/OrthancApi.h"
#include "Orthanc/OrthancJob.h"
#include "Orthanc/ResourceLevel.h"

#include "Engine/DeidError.h"
#include "Engine/DicomFile.h"
#include "Engine/LargeStack.h"
#include "Engine/Reidentifier.h"

#include <openssl/evp.h>

#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <vector>

namespace Deid
{
  using namespace OrthancApi;

  namespace
  {
    std::shared_ptr<const RecipientPrivateKey> configuredKey_;   // from PrivateKeyFile, or null

    const char* const KEY_HEADER = "x-deidentification-private-key";
    const char* const PASSWORD_HEADER = "x-deidentification-key-password";

    // DeidError of the re-identifier -> a 400 answer (the caller's key or
    // file is wrong), other errors unchanged. Messages never hold values.
    [[noreturn]] void RethrowAsHttp(const DeidError& e, const std::string& label)
    {
      switch (e.GetCode())
      {
        case ErrorCode::Crypto:
        case ErrorCode::BadInput:
        case ErrorCode::BadOption:
          throw HttpError::BadRequest("Cannot re-identify " + label + ": " + e.what());
        default:
          throw HttpError(OrthancPluginErrorCode_InternalError, "Cannot re-identify " + label + ": " + e.what());
      }
    }

    std::string DecodeBase64(const std::string& text)
    {
      std::string compact;
      for (char c : text)
      {
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
        {
          compact.push_back(c);
        }
      }
      if (compact.empty() || compact.size() % 4 != 0)
      {
        throw HttpError::BadRequest(std::string("The header X-Deidentification-Private-Key must be "
                                                "the base64 encoding of the PEM private key"));
      }

      std::vector<unsigned char> decoded(compact.size());
      const int n = EVP_DecodeBlock(decoded.data(), reinterpret_cast<const unsigned char*>(compact.data()),
                                    static_cast<int>(compact.size()));
      if (n < 0)
      {
        throw HttpError::BadRequest(std::string("The header X-Deidentification-Private-Key must be "
                                                "the base64 encoding of the PEM private key"));
      }

      size_t length = static_cast<size_t>(n);
      for (size_t i = compact.size(); i > 0 && compact[i - 1] == '='; i--)
      {
        length--;   // EVP_DecodeBlock counts the padding
      }
      std::string result(reinterpret_cast<const char*>(decoded.data()), length);
      OPENSSL_cleanse(decoded.data(), decoded.size());
      return result;
    }

    // The private key of a request (see ReidentifyRoutes.h for the order).
    std::shared_ptr<const RecipientPrivateKey> GetKey(const RestRequest& request, const Json::Value& body)
    {
      try
      {
        if (body.isObject() && body.isMember("PrivateKey"))
        {
          if (!body["PrivateKey"].isString() ||
              (body.isMember("Password") && !body["Password"].isString()))
          {
            throw HttpError::BadRequest("\"PrivateKey\" must be the PEM text of the private key "
                                        "and \"Password\" a string");
          }
          return std::make_shared<RecipientPrivateKey>(body["PrivateKey"].asString(),
                                                       body.isMember("Password") ? body["Password"].asString() : "");
        }

        const std::string* header = request.GetHeader(KEY_HEADER);
        if (header != nullptr)
        {
          const std::string* password = request.GetHeader(PASSWORD_HEADER);
          std::string pem = DecodeBase64(*header);
          std::shared_ptr<const RecipientPrivateKey> key =
            std::make_shared<RecipientPrivateKey>(pem, password == nullptr ? "" : *password);
          OPENSSL_cleanse(&pem[0], pem.size());
          return key;
        }
      }
      catch (const DeidError& e)
      {
        throw HttpError::BadRequest(e.what());   // never names the key
      }

      if (configuredKey_)
      {
        return configuredKey_;
      }

      throw HttpError::BadRequest("Re-identification needs the private key of a recipient: give it as "
                                  "\"PrivateKey\" (PEM) in the JSON body, or base64-encoded in the header "
                                  "X-Deidentification-Private-Key");
    }

    // The request without the key, for the audit trail.
    Json::Value WithoutSecrets(const Json::Value& body)
    {
      Json::Value copy = body.isObject() ? body : Json::Value(Json::objectValue);
      copy.removeMember("PrivateKey");
      copy.removeMember("Password");
      return copy;
    }

    OperationDescription Describe(const std::string& level, const std::string& sourceId, const Json::Value& body)
    {
      OperationDescription d;
      d.kind = "reidentify";
      d.level = level;
      d.sourceId = sourceId;
      d.request = WithoutSecrets(body);
      d.caller = CallerContext::GetCurrent();
      return d;
    }

    void Report(const OperationDescription& operation, size_t count, size_t failed,
                const std::vector<std::string>& newInstances = std::vector<std::string>(),
                const std::vector<std::string>& newResources = std::vector<std::string>(),
                const std::string& jobId = std::string())
    {
      OperationReport report;
      report.operation = operation;
      report.jobId = jobId;
      report.instancesCount = count;
      report.failedInstancesCount = failed;
      report.newInstances = newInstances;
      report.newResources = newResources;
      report.stored = !newInstances.empty();
      DeidentificationEvents::ReportFinished(report);
    }

    // PS3.15 E.1.2 on one Part 10 file in memory.
    std::string ReidentifyDicom(const void* data, size_t size, const RecipientPrivateKey& key,
                                const std::string& label)
    {
      try
      {
        std::string restored;
        LargeStack::Run([&]()   // recursive work: on a large stack, whatever the thread
        {
          std::unique_ptr<DcmFileFormat> file = ParseDicom(data, size);
          Reidentify(*file, key);
          restored = WriteDicom(*file);
        });
        return restored;
      }
      catch (const DeidError& e)
      {
        RethrowAsHttp(e, label);
      }
    }

    std::string ReadInstance(const std::string& id)
    {
      std::string dicom;
      if (!RestGet(dicom, "/instances/" + id + "/file", true))
      {
        throw HttpError::NotFound("Unknown instance: " + id);
      }
      return dicom;
    }

    bool GetBoolean(const Json::Value& body, const char* key, bool defaultValue)
    {
      if (!body.isMember(key))
      {
        return defaultValue;
      }
      if (!body[key].isBool())
      {
        throw HttpError::BadRequest(std::string("\"") + key + "\" must be true or false");
      }
      return body[key].asBool();
    }


    // --- Re-identification of a patient, study or series, as a job ---

    class ReidentificationOperation : public IJobOperation
    {
    private:
      struct Instance
      {
        std::string sourceId;
        bool done = false;
        std::string newId;
        std::string error;
      };

      mutable std::mutex mutex_;
      std::shared_ptr<const RecipientPrivateKey> key_;
      OperationDescription description_;
      const ResourceLevel& level_;
      std::string sourceId_;
      std::vector<Instance> instances_;
      size_t next_ = 0;
      std::string jobId_;
      std::set<std::string> newResources_;
      bool finished_ = false;

    public:
      ReidentificationOperation(std::shared_ptr<const RecipientPrivateKey> key, const ResourceLevel& level,
                                const std::string& sourceId, const Json::Value& body) :
        key_(key),
        description_(Describe(level.singular, sourceId, body)),
        level_(level),
        sourceId_(sourceId)
      {
        Json::Value instances;
        if (!RestGet(instances, level.GetUri(sourceId) + "/instances", true) || !instances.isArray())
        {
          throw HttpError::NotFound("Unknown " + std::string(level.singular) + ": " + sourceId);
        }
        for (Json::ArrayIndex i = 0; i < instances.size(); i++)
        {
          Instance instance;
          instance.sourceId = instances[i].isObject() ? instances[i]["ID"].asString() : instances[i].asString();
          instances_.push_back(instance);
        }

        // Check the key on the first instance, so that a wrong key is a 400
        // answer rather than a failed job.
        if (!instances_.empty())
        {
          const std::string dicom = ReadInstance(instances_[0].sourceId);
          try
          {
            std::unique_ptr<DcmFileFormat> file = ParseDicom(dicom.data(), dicom.size());
            DecryptModifiedAttributes(*file->getDataset(), *key_);
          }
          catch (const DeidError& e)
          {
            Report(description_, instances_.size(), instances_.size());
            RethrowAsHttp(e, "instance " + instances_[0].sourceId);
          }
        }
      }

      void SetJobId(const std::string& id) override
      {
        std::lock_guard<std::mutex> lock(mutex_);
        jobId_ = id;
      }

      bool Step() override
      {
        Instance* instance = nullptr;
        {
          std::lock_guard<std::mutex> lock(mutex_);
          while (next_ < instances_.size() && (instances_[next_].done || !instances_[next_].error.empty()))
          {
            next_++;
          }
          if (next_ >= instances_.size())
          {
            return false;
          }
          instance = &instances_[next_];
        }

        const std::string label = "instance " + instance->sourceId;
        std::string error, newId, parent;
        try
        {
          const std::string dicom = ReadInstance(instance->sourceId);
          const std::string restored = ReidentifyDicom(dicom.data(), dicom.size(), *key_, label);
          Json::Value stored;
          if (!RestPost(stored, "/instances", restored.data(), restored.size(), true) ||
              !stored.isObject() || !stored["ID"].isString())
          {
            throw HttpError(OrthancPluginErrorCode_InternalError,
                            "Orthanc refused to store the re-identified copy of " + label);
          }
          newId = stored["ID"].asString();
          if (stored[level_.parentKey].isString())
          {
            parent = stored[level_.parentKey].asString();
          }
        }
        catch (...)
        {
          DescribeCurrentException(error);
          if (error.empty())
          {
            error = label + ": unknown error";
          }
        }

        std::lock_guard<std::mutex> lock(mutex_);
        if (error.empty())
        {
          instance->done = true;
          instance->newId = newId;
          if (!parent.empty())
          {
            newResources_.insert(parent);
          }
        }
        else
        {
          instance->error = error;
          LogWarning("Re-identification of " + label + " failed: " + error);
        }
        next_++;
        return true;
      }

      void Reset() override
      {
        std::lock_guard<std::mutex> lock(mutex_);
        for (Instance& i : instances_)
        {
          i.error.clear();
        }
        next_ = 0;
        finished_ = false;
      }

      void Finish() override
      {
        std::vector<std::string> newInstances;
        std::vector<std::string> newResources;
        size_t failed = 0;
        std::string jobId;
        {
          std::lock_guard<std::mutex> lock(mutex_);
          if (finished_)
          {
            return;
          }
          finished_ = true;
          for (const Instance& i : instances_)
          {
            if (i.done)
            {
              newInstances.push_back(i.newId);
            }
            else
            {
              failed++;
            }
          }
          newResources.assign(newResources_.begin(), newResources_.end());
          jobId = jobId_;
        }
        Report(description_, instances_.size(), failed, newInstances, newResources, jobId);
      }

      bool HasFailures() const override
      {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const Instance& i : instances_)
        {
          if (!i.done)
          {
            return true;
          }
        }
        return false;
      }

      float GetProgress() const override
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (instances_.empty())
        {
          return 1.0f;
        }
        size_t processed = 0;
        for (const Instance& i : instances_)
        {
          if (i.done || !i.error.empty())
          {
            processed++;
          }
        }
        return static_cast<float>(processed) / static_cast<float>(instances_.size());
      }

      // Orthanc IDs and counts only: never DICOM values, never the key.
      Json::Value GetContent() const override
      {
        std::lock_guard<std::mutex> lock(mutex_);
        Json::Value content(Json::objectValue);
        content["Description"] = "Re-identification (PS3.15 E.1.2)";
        content["Level"] = level_.singular;
        content["Source"] = sourceId_;
        content["InstancesCount"] = static_cast<Json::UInt64>(instances_.size());

        size_t done = 0;
        Json::Value failed(Json::arrayValue);
        Json::Value instances(Json::arrayValue);
        for (const Instance& i : instances_)
        {
          if (i.done)
          {
            done++;
            instances.append(i.newId);
          }
          else if (!i.error.empty())
          {
            Json::Value f(Json::objectValue);
            f["Instance"] = i.sourceId;
            f["Error"] = i.error;
            failed.append(f);
          }
        }
        content["ReidentifiedInstancesCount"] = static_cast<Json::UInt64>(done);
        content["FailedInstancesCount"] = static_cast<Json::UInt64>(failed.size());
        content["FailedInstances"] = failed;
        content["Instances"] = instances;

        Json::Value resources(Json::arrayValue);
        for (const std::string& id : newResources_)
        {
          Json::Value r(Json::objectValue);
          r["ID"] = id;
          r["Path"] = level_.GetUri(id);
          r["Type"] = level_.singular;
          resources.append(r);
        }
        content["Resources"] = resources;
        return content;
      }
    };


    // --- Routes ---

    void ReidentifyResource(RestAnswer& answer, const RestRequest& request)
    {
      const ResourceLevel& level = ResourceLevel::FromName(request.groups.at(0));
      const std::string& id = request.groups.at(1);
      const Json::Value body = request.GetJsonBody();
      KnownKeys::Check(body, { "PrivateKey", "Password", "Priority", "Synchronous" });
      std::shared_ptr<const RecipientPrivateKey> key = GetKey(request, body);

      int priority = 0;
      if (body.isMember("Priority"))
      {
        if (!body["Priority"].isInt())
        {
          throw HttpError::BadRequest("\"Priority\" must be an integer");
        }
        priority = body["Priority"].asInt();
      }

      std::shared_ptr<ReidentificationOperation> operation =
        std::make_shared<ReidentificationOperation>(key, level, id, body);

      const bool synchronous = GetBoolean(body, "Synchronous", false);
      const std::string jobId = SubmitOrthancJob(operation, "Reidentification", priority, synchronous);
      if (synchronous)
      {
        answer.AnswerJson(operation->GetContent());
      }
      else
      {
        Json::Value result(Json::objectValue);
        result["ID"] = jobId;
        result["Path"] = "/jobs/" + jobId;
        answer.AnswerJson(result);
      }
    }

    void ReidentifyInstance(RestAnswer& answer, const RestRequest& request)
    {
      const std::string& id = request.groups.at(0);
      const Json::Value body = request.GetJsonBody();
      KnownKeys::Check(body, { "PrivateKey", "Password", "Store" });
      std::shared_ptr<const RecipientPrivateKey> key = GetKey(request, body);
      const bool store = GetBoolean(body, "Store", false);
      OperationDescription operation = Describe("Instance", id, body);

      const std::string dicom = ReadInstance(id);
      std::string restored;
      try
      {
        restored = ReidentifyDicom(dicom.data(), dicom.size(), *key, "instance " + id);
      }
      catch (...)
      {
        Report(operation, 1, 1);
        throw;
      }

      if (!store)
      {
        Report(operation, 1, 0);
        answer.AnswerBuffer(restored, "application/dicom");
        return;
      }

      Json::Value stored;
      if (!RestPost(stored, "/instances", restored.data(), restored.size(), true) || !stored["ID"].isString())
      {
        Report(operation, 1, 1);
        throw HttpError(OrthancPluginErrorCode_InternalError,
                        "Orthanc refused to store the re-identified copy of instance " + id);
      }
      Report(operation, 1, 0, { stored["ID"].asString() }, { stored["ID"].asString() });
      answer.AnswerJson(stored);
    }

    void ReidentifyUpload(RestAnswer& answer, const RestRequest& request)
    {
      // The body is the file: the key comes in the headers (or the configuration).
      KnownKeys::CheckHeaders(request, "x-deidentification-", { KEY_HEADER, PASSWORD_HEADER });
      std::shared_ptr<const RecipientPrivateKey> key = GetKey(request, Json::Value(Json::nullValue));
      OperationDescription operation = Describe("", "", Json::Value(Json::objectValue));

      std::string restored;
      try
      {
        restored = ReidentifyDicom(request.body, request.bodySize, *key, "the uploaded file");
      }
      catch (...)
      {
        Report(operation, 1, 1);
        throw;
      }
      Report(operation, 1, 0);
      answer.AnswerBuffer(restored, "application/dicom");
    }
  }


  // GET /deidentification/recipients: the names of the recipients that a
  // request may name (configured, and certificates of the key store).
  static void ListRecipients(RestAnswer& answer, const RestRequest& /* request */)
  {
    Json::Value result(Json::objectValue);
    result["Configured"] = EncryptionRecipients::List();
    Json::Value stored(Json::arrayValue);
    if (KeyStoreService::IsInitialized())
    {
      for (const std::string& name : KeyStoreService::Get().GetStore().ListCertificates())
      {
        stored.append(name);
      }
    }
    result["KeyStore"] = stored;
    result["Ciphers"] = Json::Value(Json::arrayValue);
    result["Ciphers"].append(ToString(ContentCipher::AES256));   // the default
    result["Ciphers"].append(ToString(ContentCipher::AES128));
    result["Ciphers"].append(ToString(ContentCipher::TripleDES));
    answer.AnswerJson(result);
  }


  void RegisterReidentifyRoutes(const Json::Value& section)
  {
    RegisterRoute("/deidentification/recipients", OrthancPluginHttpMethod_Get, ListRecipients);

    if (section.isMember("EnableReidentification") && !section["EnableReidentification"].isBool())
    {
      throw ConfigurationError("Deidentification.EnableReidentification must be true or false");
    }
    // Routes that reveal identities are off unless configured.
    if (!section.isMember("EnableReidentification") || !section["EnableReidentification"].asBool())
    {
      LogWarning("De-identification: re-identification routes are disabled "
                 "(set Deidentification.EnableReidentification to true to enable them)");
      return;
    }

    configuredKey_.reset();
    if (section.isMember("PrivateKeyFile"))
    {
      if (!section["PrivateKeyFile"].isString() ||
          (section.isMember("PrivateKeyPassword") && !section["PrivateKeyPassword"].isString()))
      {
        throw ConfigurationError("Deidentification.PrivateKeyFile and PrivateKeyPassword must be strings");
      }
      std::ifstream in(section["PrivateKeyFile"].asString(), std::ios::binary);
      std::ostringstream pem;
      pem << in.rdbuf();
      if (!in || pem.str().empty())
      {
        throw ConfigurationError("Deidentification.PrivateKeyFile: cannot read the private key file");
      }
      try
      {
        configuredKey_ = std::make_shared<RecipientPrivateKey>(
          pem.str(), section.isMember("PrivateKeyPassword") ? section["PrivateKeyPassword"].asString() : "");
      }
      catch (const DeidError& e)
      {
        throw ConfigurationError(std::string("Deidentification.PrivateKeyFile: ") + e.what());
      }
      LogWarning("De-identification: re-identification may use the configured private key file "
                 "(Deidentification.PrivateKeyFile) when a request gives no key");
    }

    RegisterRoute("/(patients|studies|series)/([^/]+)/reidentify", OrthancPluginHttpMethod_Post, ReidentifyResource);
    RegisterRoute("/instances/([^/]+)/reidentify", OrthancPluginHttpMethod_Post, ReidentifyInstance);
    RegisterRoute("/tools/reidentify", OrthancPluginHttpMethod_Post, ReidentifyUpload);
  }
}
