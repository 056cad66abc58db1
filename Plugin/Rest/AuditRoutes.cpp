#include "Rest/AuditRoutes.h"

#include "Operations/KeyStoreService.h"
#include "Orthanc/OrthancApi.h"

#include <cstdlib>

namespace Deid
{
  using namespace OrthancApi;

  static const size_t DEFAULT_LIMIT = 100;
  static const size_t MAX_LIMIT = 1000;

  static int64_t ParseInteger(const std::string* text, int64_t defaultValue, const char* name)
  {
    if (text == nullptr || text->empty())
    {
      return defaultValue;
    }
    if (text->find_first_not_of("0123456789") != std::string::npos || text->size() > 18)
    {
      throw HttpError::BadRequest(std::string("\"") + name + "\" must be a non-negative integer");
    }
    return std::strtoll(text->c_str(), nullptr, 10);
  }

  static Json::Value ParseJsonText(const std::string& text, const Json::Value& fallback)
  {
    if (text.empty())
    {
      return fallback;
    }
    try
    {
      return ParseJson(text.data(), text.size());
    }
    catch (...)
    {
      return Json::Value(text);
    }
  }

  static void GetAudit(RestAnswer& answer, const RestRequest& request)
  {
    int64_t since = ParseInteger(request.GetArgument("since"), 0, "since");
    int64_t limit = ParseInteger(request.GetArgument("limit"), DEFAULT_LIMIT, "limit");
    if (limit <= 0 || limit > static_cast<int64_t>(MAX_LIMIT))
    {
      throw HttpError::BadRequest("\"limit\" must be between 1 and " + std::to_string(MAX_LIMIT));
    }

    std::vector<AuditRecord> records =
      KeyStoreService::Get().GetStore().ListAudit(since, static_cast<size_t>(limit));

    Json::Value result(Json::objectValue);
    Json::Value list(Json::arrayValue);
    for (const AuditRecord& r : records)
    {
      Json::Value item(Json::objectValue);
      item["ID"] = static_cast<Json::Int64>(r.id);
      item["Time"] = r.time;
      item["Operation"] = r.operation;
      item["Route"] = r.route;
      item["Project"] = r.project;
      item["Profile"] = r.profile;
      item["Options"] = r.options;
      item["Source"] = ParseJsonText(r.source, Json::Value(Json::arrayValue));
      item["Result"] = ParseJsonText(r.result, Json::Value(Json::arrayValue));
      item["Caller"] = ParseJsonText(r.caller, Json::Value(Json::objectValue));
      item["Status"] = r.status;
      item["Details"] = ParseJsonText(r.details, Json::Value(Json::objectValue));
      list.append(item);
    }
    result["Records"] = list;
    result["Next"] = static_cast<Json::Int64>(records.empty() ? since : records.back().id);
    result["Done"] = (records.size() < static_cast<size_t>(limit));
    answer.AnswerJson(result);
  }

  void RegisterAuditRoutes()
  {
    RegisterRoute("/deidentification/audit", OrthancPluginHttpMethod_Get, GetAudit);
  }
}
