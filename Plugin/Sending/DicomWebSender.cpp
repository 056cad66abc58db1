// DicomWeb destinations: STOW-RS (PS3.18 10.5) to a server of the
// orthanc-dicomweb plugin's "DicomWeb.Servers", by that plugin:
// POST {Root}servers/{name}/stow with {"Resources": [<stored copy>]}.
// The plugin runs the STOW-RS request as an Orthanc job. We submit it
// asynchronously and follow it: when the send itself runs in a job, a
// synchronous call would wait for a second worker of Orthanc's jobs engine
// that may never come ("ConcurrentJobs": 1), so a STOW-RS job that does not
// start in time is canceled and reported instead of blocking forever.
#include "Sending/Senders.h"

#include "Orthanc/OrthancApi.h"

#include <chrono>
#include <thread>

namespace Deid
{
  namespace Sending
  {
    using namespace OrthancApi;

    static const std::chrono::seconds START_TIMEOUT(30);
    static const std::chrono::minutes RUN_TIMEOUT(10);

    std::string GetDicomWebRoot()
    {
      std::string root = "/dicom-web/";
      const Json::Value configuration = GetConfiguration();
      const Json::Value& section = configuration["DicomWeb"];
      if (section.isObject() && section["Root"].isString() && !section["Root"].asString().empty())
      {
        root = section["Root"].asString();
      }
      if (root.front() != '/')
      {
        root = "/" + root;
      }
      if (root.back() != '/')
      {
        root += "/";
      }
      return root;
    }

    void SendByStowRs(const std::string& storedId, const Rules::Destination& destination,
                      const std::string& label)
    {
      const std::string what = "STOW-RS of " + label + " to " + DescribeDestination(destination);

      Json::Value body(Json::objectValue);
      body["Resources"] = Json::arrayValue;
      body["Resources"].append(storedId);
      body["Synchronous"] = false;

      Json::Value submitted;
      try
      {
        RestPostAfterPlugins(submitted, GetDicomWebRoot() + "servers/" + destination.name + "/stow",
                             WriteJson(body, false));
      }
      catch (const HttpError& e)
      {
        throw HttpError(e.GetCode(), what + " failed: " + DescribeError(e.GetCode()) +
                        " (is the orthanc-dicomweb plugin loaded?)");
      }
      if (!submitted.isObject() || !submitted["ID"].isString())
      {
        throw HttpError(OrthancPluginErrorCode_InternalError,
                        what + " failed: the DICOMweb plugin gave no job");
      }

      const std::string job = "/jobs/" + submitted["ID"].asString();
      const auto start = std::chrono::steady_clock::now();
      for (;;)
      {
        Json::Value status;
        if (!RestGet(status, job, true) || !status.isObject())
        {
          throw HttpError(OrthancPluginErrorCode_InternalError, what + ": its job " + job + " is lost");
        }
        const std::string state = status["State"].asString();
        if (state == "Success")
        {
          return;
        }
        if (state == "Failure")
        {
          OrthancPluginErrorCode code = status["ErrorCode"].isInt() ?
            static_cast<OrthancPluginErrorCode>(status["ErrorCode"].asInt()) :
            OrthancPluginErrorCode_NetworkProtocol;
          throw HttpError(code, what + " failed: " + DescribeError(code) + " (job " + job + ")");
        }

        const auto elapsed = std::chrono::steady_clock::now() - start;
        if ((state == "Pending" && elapsed > START_TIMEOUT) || elapsed > RUN_TIMEOUT)
        {
          Json::Value ignored;
          RestPost(ignored, job + "/cancel", "", 0, true);
          throw HttpError(OrthancPluginErrorCode_Timeout,
                          what + " failed: its job " + job + (state == "Pending" ?
                          " did not start (Orthanc's \"ConcurrentJobs\" must be at least 2 to send "
                          "to DICOMweb servers from a job)" : " took too long"));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }
}
