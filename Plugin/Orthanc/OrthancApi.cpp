#include "Orthanc/OrthancApi.h"

#include "Engine/DeidError.h"
#include "Engine/SafeText.h"

#include <json/reader.h>
#include <json/writer.h>

#include <array>
#include <cctype>
#include <cstring>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace Deid
{
  namespace OrthancApi
  {
    static OrthancPluginContext* context_ = nullptr;

    static OrthancPluginErrorCode forbidden_ = OrthancPluginErrorCode_Unauthorized;   // until registered

    void RegisterErrorCodes()
    {
      forbidden_ = OrthancPluginRegisterErrorCode(GetContext(), 1, 403, "Forbidden by the de-identification plugin");
    }

    HttpError HttpError::Forbidden(const std::string& message)
    {
      return HttpError(forbidden_, message);
    }

    void SetContext(OrthancPluginContext* context)
    {
      context_ = context;
    }

    OrthancPluginContext* GetContext()
    {
      if (context_ == nullptr)
      {
        throw std::logic_error("The Orthanc plugin context is not set");
      }
      return context_;
    }


    MemoryBuffer::MemoryBuffer()
    {
      buffer_.data = nullptr;
      buffer_.size = 0;
    }

    MemoryBuffer::~MemoryBuffer()
    {
      Clear();
    }

    OrthancPluginMemoryBuffer* MemoryBuffer::Release()
    {
      Clear();
      return &buffer_;
    }

    void MemoryBuffer::Clear()
    {
      if (buffer_.data != nullptr)
      {
        OrthancPluginFreeMemoryBuffer(GetContext(), &buffer_);
        buffer_.data = nullptr;
        buffer_.size = 0;
      }
    }

    const char* MemoryBuffer::GetData() const
    {
      return buffer_.size == 0 ? nullptr : static_cast<const char*>(buffer_.data);
    }

    size_t MemoryBuffer::GetSize() const
    {
      return buffer_.size;
    }

    std::string MemoryBuffer::ToString() const
    {
      return buffer_.size == 0 ? std::string() :
        std::string(static_cast<const char*>(buffer_.data), buffer_.size);
    }

    Json::Value MemoryBuffer::ToJson() const
    {
      Json::Value value;
      Json::CharReaderBuilder builder;
      std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
      std::string errors;
      const char* begin = GetData();
      if (begin == nullptr ||
          !reader->parse(begin, begin + GetSize(), &value, &errors))
      {
        throw HttpError(OrthancPluginErrorCode_InternalError, "Orthanc answered something else than JSON");
      }
      return value;
    }


    OrthancString::~OrthancString()
    {
      if (str_ != nullptr)
      {
        OrthancPluginFreeString(GetContext(), str_);
      }
    }


    static bool Check(OrthancPluginErrorCode code, const std::string& method,
                      const std::string& uri, bool tolerateErrors)
    {
      if (code == OrthancPluginErrorCode_Success)
      {
        return true;
      }
      else if (tolerateErrors)
      {
        return false;
      }
      else
      {
        // URIs of our calls only contain Orthanc IDs, never DICOM values.
        throw HttpError(code, method + " " + uri + " failed in Orthanc: " + DescribeError(code));
      }
    }

    static thread_local bool storingOwnInstance_ = false;

    bool IsStoringOwnInstance()
    {
      return storingOwnInstance_;
    }

    // Marks the plugin's own POST /instances for the received-instance callback,
    // which Orthanc runs synchronously in this thread.
    class OwnInstanceScope
    {
    private:
      bool previous_;

    public:
      explicit OwnInstanceScope(bool active) : previous_(storingOwnInstance_)
      {
        storingOwnInstance_ = previous_ || active;
      }

      ~OwnInstanceScope()
      {
        storingOwnInstance_ = previous_;
      }
    };

    // One GET or POST through Orthanc's REST API; the answer stays in "buffer".
    static bool CallRest(MemoryBuffer& buffer, const char* method, const std::string& uri,
                         const void* body, size_t size, bool tolerateErrors)
    {
      OwnInstanceScope own(std::string(method) == "POST" && uri == "/instances");
      const OrthancPluginErrorCode code = (std::string(method) == "GET") ?
        OrthancPluginRestApiGet(GetContext(), buffer.Release(), uri.c_str()) :
        OrthancPluginRestApiPost(GetContext(), buffer.Release(), uri.c_str(),
                                 static_cast<const char*>(body), size);
      return Check(code, method, uri, tolerateErrors);
    }

    bool RestGet(MemoryBuffer& answer, const std::string& uri, bool tolerateErrors)
    {
      return CallRest(answer, "GET", uri, nullptr, 0, tolerateErrors);
    }

    bool RestGet(std::string& answer, const std::string& uri, bool tolerateErrors)
    {
      MemoryBuffer buffer;
      if (!CallRest(buffer, "GET", uri, nullptr, 0, tolerateErrors))
      {
        return false;
      }
      answer = buffer.ToString();
      return true;
    }

    bool RestGet(Json::Value& answer, const std::string& uri, bool tolerateErrors)
    {
      MemoryBuffer buffer;
      if (!CallRest(buffer, "GET", uri, nullptr, 0, tolerateErrors))
      {
        return false;
      }
      answer = buffer.ToJson();
      return true;
    }

    bool RestGetAfterPlugins(Json::Value& answer, const std::string& uri, bool tolerateErrors)
    {
      MemoryBuffer buffer;
      if (!Check(OrthancPluginRestApiGetAfterPlugins(GetContext(), buffer.Release(), uri.c_str()),
                 "GET", uri, tolerateErrors))
      {
        return false;
      }
      answer = buffer.ToJson();
      return true;
    }

    bool RestPost(std::string& answer, const std::string& uri, const void* body, size_t size,
                  bool tolerateErrors)
    {
      MemoryBuffer buffer;
      if (!CallRest(buffer, "POST", uri, body, size, tolerateErrors))
      {
        return false;
      }
      answer = buffer.ToString();
      return true;
    }

    bool RestPost(Json::Value& answer, const std::string& uri, const void* body, size_t size,
                  bool tolerateErrors)
    {
      MemoryBuffer buffer;
      if (!CallRest(buffer, "POST", uri, body, size, tolerateErrors))
      {
        return false;
      }
      answer = buffer.ToJson();
      return true;
    }

    bool RestPut(const std::string& uri, const std::string& body, bool tolerateErrors)
    {
      MemoryBuffer buffer;
      return Check(OrthancPluginRestApiPut(GetContext(), buffer.Release(), uri.c_str(),
                                           body.data(), body.size()),
                   "PUT", uri, tolerateErrors);
    }

    bool RestDelete(const std::string& uri, bool tolerateErrors)
    {
      return Check(OrthancPluginRestApiDelete(GetContext(), uri.c_str()),
                   "DELETE", uri, tolerateErrors);
    }

    bool RestPostAfterPlugins(Json::Value& answer, const std::string& uri, const std::string& body,
                              bool tolerateErrors)
    {
      MemoryBuffer buffer;
      if (!Check(OrthancPluginRestApiPostAfterPlugins(GetContext(), buffer.Release(), uri.c_str(),
                                                      body.data(), body.size()),
                 "POST", uri, tolerateErrors))
      {
        return false;
      }
      answer = buffer.ToJson();
      return true;
    }

    std::string DescribeError(OrthancPluginErrorCode code)
    {
      const char* description = OrthancPluginGetErrorDescription(GetContext(), code);
      return description == nullptr ? "error " + std::to_string(static_cast<int>(code)) : description;
    }


    // Every log line is bounded and holds no control character (no forged
    // lines), whatever a message embeds (SafeText.h).
    void LogInfo(const std::string& message)
    {
      OrthancPluginLogInfo(GetContext(), SafeText::Message(message).c_str());
    }

    void LogWarning(const std::string& message)
    {
      OrthancPluginLogWarning(GetContext(), SafeText::Message(message).c_str());
    }

    void LogError(const std::string& message)
    {
      OrthancPluginLogError(GetContext(), SafeText::Message(message).c_str());
    }


    Json::Value GetConfiguration()
    {
      OrthancString configuration(OrthancPluginGetConfiguration(GetContext()));
      if (configuration.IsNull())
      {
        throw HttpError(OrthancPluginErrorCode_InternalError, "Cannot read the Orthanc configuration");
      }
      const char* text = configuration.GetContent();
      return ParseJson(text, strlen(text));
    }


    void ExtendOrthancExplorer(const std::string& javascript)
    {
      OrthancPluginExtendOrthancExplorer(GetContext(), javascript.c_str());
    }


    Json::Value ParseJson(const void* data, size_t size)
    {
      Json::Value value;
      Json::CharReaderBuilder builder;
      builder["collectComments"] = false;
      std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
      std::string errors;
      const char* begin = static_cast<const char*>(data);
      if (size == 0 || begin == nullptr ||
          !reader->parse(begin, begin + size, &value, &errors))
      {
        // jsoncpp's messages quote positions, not content
        throw HttpError::BadRequest("The body is not valid JSON");
      }
      return value;
    }

    std::string WriteJson(const Json::Value& value, bool styled)
    {
      Json::StreamWriterBuilder builder;
      builder["indentation"] = styled ? "  " : "";
      return Json::writeString(builder, value);
    }


    Json::Value RestRequest::GetJsonBody() const
    {
      if (bodySize == 0)
      {
        return Json::Value(Json::objectValue);
      }
      Json::Value value = ParseJson(body, bodySize);
      if (!value.isObject())
      {
        throw HttpError::BadRequest("The body must be a JSON object");
      }
      return value;
    }

    const std::string* RestRequest::GetArgument(const std::string& key) const
    {
      auto found = arguments.find(key);
      return found == arguments.end() ? nullptr : &found->second;
    }


    const std::string* RestRequest::GetHeader(const std::string& lowerCaseName) const
    {
      auto found = headers.find(lowerCaseName);
      return found == headers.end() ? nullptr : &found->second;
    }


    void RestAnswer::AnswerJson(const Json::Value& value)
    {
      std::string s = WriteJson(value);
      AnswerBuffer(s, "application/json");
    }

    void RestAnswer::AnswerBuffer(const std::string& content, const std::string& mimeType)
    {
      AnswerBuffer(content.data(), content.size(), mimeType);
    }

    void RestAnswer::AnswerBuffer(const void* data, size_t size, const std::string& mimeType)
    {
      OrthancPluginAnswerBuffer(GetContext(), output_, static_cast<const char*>(data),
                                static_cast<uint32_t>(size), mimeType.c_str());
    }

    void RestAnswer::SendMethodNotAllowed(const std::string& allowed)
    {
      OrthancPluginSendMethodNotAllowed(GetContext(), output_, allowed.c_str());
    }

    void RestAnswer::SetErrorDetails(const std::string& details)
    {
      // log = 0: we log ourselves, and details never contain patient data anyway
      OrthancPluginSetHttpErrorDetails(GetContext(), output_, details.c_str(), 0);
    }


    OrthancPluginErrorCode DescribeCurrentException(std::string& message)
    {
      try
      {
        throw;
      }
      catch (const HttpError& e)
      {
        message = e.what();
        return e.GetCode();
      }
      catch (const DeidError& e)
      {
        message = e.what();
        switch (e.GetCode())
        {
          case ErrorCode::BadInput:
          case ErrorCode::BadOption:
          case ErrorCode::BadProfile:
          case ErrorCode::NotImplemented:
          case ErrorCode::Refused:
            return OrthancPluginErrorCode_BadRequest;
          default:
            return OrthancPluginErrorCode_InternalError;
        }
      }
      catch (const std::bad_alloc&)
      {
        message = "Not enough memory";
        return OrthancPluginErrorCode_NotEnoughMemory;
      }
      catch (const std::exception& e)
      {
        // Our own code and DCMTK wrappers never put values into exceptions;
        // third-party messages are still not trusted to be free of them.
        message = "Internal error in the de-identification plugin";
        return OrthancPluginErrorCode_InternalError;
      }
      catch (...)
      {
        message = "Unknown error in the de-identification plugin";
        return OrthancPluginErrorCode_InternalError;
      }
    }


    // The SDK's REST callbacks carry no user data: each registered route
    // gets its own trampoline function, generated for a fixed number of slots.
    namespace
    {
      struct Route
      {
        std::string regex;
        OrthancPluginHttpMethod method;
        RestHandler handler;
      };

      constexpr size_t MAX_ROUTES = 64;
      std::array<Route, MAX_ROUTES> routes_;
      size_t routesCount_ = 0;

      const char* MethodName(OrthancPluginHttpMethod method)
      {
        switch (method)
        {
          case OrthancPluginHttpMethod_Get: return "GET";
          case OrthancPluginHttpMethod_Post: return "POST";
          case OrthancPluginHttpMethod_Put: return "PUT";
          case OrthancPluginHttpMethod_Delete: return "DELETE";
          default: return "";
        }
      }

      OrthancPluginErrorCode Dispatch(size_t slot, OrthancPluginRestOutput* output,
                                      const char* url, const OrthancPluginHttpRequest* request)
      {
        const Route& route = routes_[slot];
        RestAnswer answer(output);

        try
        {
          if (request->method != route.method)
          {
            answer.SendMethodNotAllowed(MethodName(route.method));
            return OrthancPluginErrorCode_Success;
          }

          RestRequest r;
          r.method = request->method;
          r.url = url;
          for (uint32_t i = 0; i < request->groupsCount; i++)
          {
            r.groups.push_back(request->groups[i]);
          }
          for (uint32_t i = 0; i < request->getCount; i++)
          {
            r.arguments[request->getKeys[i]] = request->getValues[i];
          }
          for (uint32_t i = 0; i < request->headersCount; i++)
          {
            std::string name = request->headersKeys[i];
            for (char& c : name)
            {
              c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
            }
            r.headers[name] = request->headersValues[i];
          }
          r.body = request->body;
          r.bodySize = request->bodySize;

          route.handler(answer, r);
          return OrthancPluginErrorCode_Success;
        }
        catch (...)
        {
          std::string message;
          OrthancPluginErrorCode code = DescribeCurrentException(message);
          // Caller text in messages is quoted at its source (SafeText::Quote);
          // this bounds the whole and escapes any control character left.
          message = SafeText::Message(message);
          answer.SetErrorDetails(message);
          LogWarning(std::string("De-identification: ") + MethodName(route.method) + " " +
                     SafeText::Escape(url, 256) + ": " + message);
          return code;
        }
      }

      template <size_t Slot>
      OrthancPluginErrorCode Trampoline(OrthancPluginRestOutput* output, const char* url,
                                        const OrthancPluginHttpRequest* request)
      {
        return Dispatch(Slot, output, url, request);
      }

      template <size_t... Slots>
      constexpr std::array<OrthancPluginRestCallback, sizeof...(Slots)>
      MakeTrampolines(std::index_sequence<Slots...>)
      {
        return { { &Trampoline<Slots>... } };
      }

      const std::array<OrthancPluginRestCallback, MAX_ROUTES> trampolines_ =
        MakeTrampolines(std::make_index_sequence<MAX_ROUTES>());
    }

    void RegisterRoute(const std::string& regex, OrthancPluginHttpMethod method, RestHandler handler)
    {
      // Called from OrthancPluginInitialize() only, single-threaded.
      if (routesCount_ >= MAX_ROUTES)
      {
        throw std::logic_error("Too many REST routes; raise MAX_ROUTES in OrthancApi.cpp");
      }
      size_t slot = routesCount_++;
      routes_[slot].regex = regex;
      routes_[slot].method = method;
      routes_[slot].handler = std::move(handler);
      OrthancPluginRegisterRestCallbackNoLock(GetContext(), regex.c_str(), trampolines_[slot]);
    }

    std::vector<std::string> ListRoutes()
    {
      // Routes are registered in OrthancPluginInitialize() only: read-only afterwards.
      std::vector<std::string> result;
      for (size_t i = 0; i < routesCount_; i++)
      {
        result.push_back(routes_[i].regex);
      }
      return result;
    }
  }
}

namespace Deid
{
  namespace OrthancApi
  {
    std::string CompressPngRgb24(uint32_t width, uint32_t height, const std::string& pixels)
    {
      if (pixels.size() != static_cast<size_t>(width) * height * 3)
      {
        throw HttpError(OrthancPluginErrorCode_InternalError, "Bad image size for PNG");
      }
      MemoryBuffer png;
      OrthancPluginErrorCode code = OrthancPluginCompressPngImage(
        GetContext(), png.Release(), OrthancPluginPixelFormat_RGB24, width, height, width * 3, pixels.data());
      if (code != OrthancPluginErrorCode_Success)
      {
        throw HttpError(code, "Orthanc cannot encode the preview as PNG");
      }
      return png.ToString();
    }
  }
}
