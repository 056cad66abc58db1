#include "Rest/ReidentifyRoutes.h"

#include "Configuration/Configuration.h"
#include "Jobs/ReidentificationJob.h"
#include "Operations/EncryptionRecipients.h"
#include "Operations/InstanceReidentifier.h"
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

    OperationDescription Describe(const std::string& level, const std::string& sourceId, const Json::Value& body)
    {
      return InstanceReidentifier::Describe(level, sourceId, body);
    }

    void Report(const OperationDescription& operation, size_t count, size_t failed,
                const std::vector<std::string>& newInstances = std::vector<std::string>(),
                const std::vector<std::string>& newResources = std::vector<std::string>())
    {
      InstanceReidentifier::Report(operation, count, failed, newInstances, newResources);
    }

    std::string ReidentifyDicom(const void* data, size_t size, const RecipientPrivateKey& key,
                                const std::string& label)
    {
      return InstanceReidentifier::Apply(data, size, key, label);
    }

    std::string ReadInstance(const std::string& id)
    {
      return InstanceReidentifier::ReadInstance(id);
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
        std::make_shared<ReidentificationOperation>(key, key == configuredKey_, level, id, body);

      const bool synchronous = GetBoolean(body, "Synchronous", false);
      const std::string jobId = SubmitOrthancJob(operation, ReidentificationOperation::JOB_TYPE, priority,
                                                 synchronous);
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

    ReidentificationOperation::Configure(configuredKey_);   // restored jobs resume only with this key
    RegisterRoute("/(patients|studies|series)/([^/]+)/reidentify", OrthancPluginHttpMethod_Post, ReidentifyResource);
    RegisterRoute("/instances/([^/]+)/reidentify", OrthancPluginHttpMethod_Post, ReidentifyInstance);
    RegisterRoute("/tools/reidentify", OrthancPluginHttpMethod_Post, ReidentifyUpload);
  }
}
