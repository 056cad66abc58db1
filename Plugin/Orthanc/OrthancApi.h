// Our own small RAII layer over the Orthanc plugin SDK (OrthancCPlugin.h):
// owned buffers and strings, calls to the Orthanc REST API, logging, and the
// conversion of exceptions into HTTP answers. Everything else in Plugin/ uses
// this file instead of the raw C API.
#pragma once

#include <orthanc/OrthancCPlugin.h>

#include <json/value.h>

#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace Deid
{
  namespace OrthancApi
  {
    // The context given to OrthancPluginInitialize(); set once at start-up.
    void SetContext(OrthancPluginContext* context);
    OrthancPluginContext* GetContext();

    // An error answered to the HTTP client (or recorded in a job) with an
    // Orthanc error code. The message is shown to the client: it must never
    // contain patient data (name tags, options and Orthanc IDs only).
    class HttpError : public std::runtime_error
    {
    private:
      OrthancPluginErrorCode code_;

    public:
      HttpError(OrthancPluginErrorCode code, const std::string& message) :
        std::runtime_error(message),
        code_(code)
      {
      }

      OrthancPluginErrorCode GetCode() const
      {
        return code_;
      }

      static HttpError BadRequest(const std::string& message)
      {
        return HttpError(OrthancPluginErrorCode_BadRequest, message);
      }

      static HttpError NotFound(const std::string& message)
      {
        return HttpError(OrthancPluginErrorCode_UnknownResource, message);
      }

      // 403: Orthanc 1.10.1 has no error code for it (Unauthorized is 401),
      // so the plugin registers its own (RegisterErrorCodes).
      static HttpError Forbidden(const std::string& message);
    };

    // Registers the plugin's own error codes (403 Forbidden). From
    // OrthancPluginInitialize().
    void RegisterErrorCodes();

    // Owns an OrthancPluginMemoryBuffer (freed with OrthancPluginFreeMemoryBuffer).
    class MemoryBuffer
    {
    private:
      OrthancPluginMemoryBuffer buffer_;

    public:
      MemoryBuffer();
      ~MemoryBuffer();
      MemoryBuffer(const MemoryBuffer&) = delete;
      MemoryBuffer& operator=(const MemoryBuffer&) = delete;

      // For passing to the SDK as an output argument: frees the current content first.
      OrthancPluginMemoryBuffer* Release();

      void Clear();
      const char* GetData() const;
      size_t GetSize() const;
      std::string ToString() const;
      Json::Value ToJson() const;   // throws HttpError(InternalError) if not JSON
    };

    // Owns a char* allocated by Orthanc (freed with OrthancPluginFreeString).
    class OrthancString
    {
    private:
      char* str_;

    public:
      explicit OrthancString(char* str = nullptr) : str_(str) {}
      ~OrthancString();
      OrthancString(const OrthancString&) = delete;
      OrthancString& operator=(const OrthancString&) = delete;

      bool IsNull() const { return str_ == nullptr; }
      const char* GetContent() const { return str_; }
      std::string ToString() const { return str_ == nullptr ? std::string() : std::string(str_); }
    };

    // Calls to the built-in REST API of Orthanc (not through other plugins).
    // Each returns false on any error when "tolerateErrors" is set, otherwise
    // throws HttpError carrying Orthanc's error code.
    bool RestGet(std::string& answer, const std::string& uri, bool tolerateErrors = false);
    bool RestGet(Json::Value& answer, const std::string& uri, bool tolerateErrors = false);
    // The answer as Orthanc gives it, without a copy (e.g. a DICOM file).
    bool RestGet(MemoryBuffer& answer, const std::string& uri, bool tolerateErrors = false);
    bool RestPost(std::string& answer, const std::string& uri, const void* body, size_t size,
                  bool tolerateErrors = false);
    bool RestPost(Json::Value& answer, const std::string& uri, const void* body, size_t size,
                  bool tolerateErrors = false);
    bool RestPut(const std::string& uri, const std::string& body, bool tolerateErrors = false);

    // A PNG of an RGB24 image (rows top to bottom, pitch 3 * width), by Orthanc's encoder.
    std::string CompressPngRgb24(uint32_t width, uint32_t height, const std::string& pixels);
    bool RestDelete(const std::string& uri, bool tolerateErrors = false);

    // True while this thread stores an instance made by the plugin itself
    // (RestPost to "/instances"): the received-instance callback (ingestion)
    // and the automatic rules leave the plugin's own output alone.
    bool IsStoringOwnInstance();

    // A GET that also reaches the routes of other plugins (e.g. the
    // DICOMweb plugin's /dicom-web/servers).
    bool RestGetAfterPlugins(Json::Value& answer, const std::string& uri, bool tolerateErrors = false);
    // A POST that also reaches the routes of other plugins (e.g. the
    // DICOMweb plugin's /dicom-web/servers/{name}/stow).
    bool RestPostAfterPlugins(Json::Value& answer, const std::string& uri, const std::string& body,
                              bool tolerateErrors = false);

    // Orthanc's description of one of its error codes ("Unknown resource").
    std::string DescribeError(OrthancPluginErrorCode code);

    // Logging through Orthanc. Never pass DICOM values; quote caller text
    // with SafeText::Quote. Lines are cut and control characters escaped.
    void LogInfo(const std::string& message);
    void LogWarning(const std::string& message);
    void LogError(const std::string& message);

    // The whole Orthanc configuration (all files merged), as JSON.
    Json::Value GetConfiguration();

    // Adds JavaScript to Orthanc Explorer (/app/explorer.html), run after its own.
    void ExtendOrthancExplorer(const std::string& javascript);

    // JSON helpers (jsoncpp).
    Json::Value ParseJson(const void* data, size_t size);   // throws HttpError(BadRequest)
    std::string WriteJson(const Json::Value& value, bool styled = true);

    // A REST request, with the groups of the route's regular expression, the
    // GET arguments (Orthanc 1.10.1 only parses them for GET requests) and
    // the HTTP headers (names in lower case).
    struct RestRequest
    {
      OrthancPluginHttpMethod method;
      std::string url;
      std::vector<std::string> groups;
      std::map<std::string, std::string> arguments;
      std::map<std::string, std::string> headers;
      const void* body = nullptr;
      size_t bodySize = 0;

      // The body as a JSON object: an empty body gives an empty object,
      // anything else than an object is a HttpError(BadRequest).
      Json::Value GetJsonBody() const;
      const std::string* GetArgument(const std::string& key) const;
      const std::string* GetHeader(const std::string& lowerCaseName) const;
    };

    // The answer side of a REST request.
    class RestAnswer
    {
    private:
      OrthancPluginRestOutput* output_;

    public:
      explicit RestAnswer(OrthancPluginRestOutput* output) : output_(output) {}

      void AnswerJson(const Json::Value& value);
      void AnswerBuffer(const std::string& content, const std::string& mimeType);
      void AnswerBuffer(const void* data, size_t size, const std::string& mimeType);
      void SendMethodNotAllowed(const std::string& allowed);
      void SetErrorDetails(const std::string& details);   // shown in Orthanc's JSON error
      OrthancPluginRestOutput* GetOutput() const { return output_; }
    };

    typedef std::function<void(RestAnswer& answer, const RestRequest& request)> RestHandler;

    // Registers a route (regular expression as in Orthanc). "method" is the
    // only method accepted (others get 405). The handler runs without the
    // global REST lock (handlers must be thread-safe). Exceptions become
    // Orthanc error answers: HttpError keeps its code; Deid::DeidError maps
    // BadInput/BadOption/BadProfile/NotImplemented to 400; others to 500.
    void RegisterRoute(const std::string& regex, OrthancPluginHttpMethod method, RestHandler handler);

    // The regular expressions of the routes registered so far (which features are on).
    std::vector<std::string> ListRoutes();

    // Converts the exception currently being handled (call inside catch(...))
    // into an Orthanc error code and a message without patient data.
    OrthancPluginErrorCode DescribeCurrentException(std::string& message);
  }
}
