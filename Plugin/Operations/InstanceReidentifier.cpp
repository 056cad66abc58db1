#include "Operations/InstanceReidentifier.h"

#include "Orthanc/CallerContext.h"
#include "Orthanc/OrthancApi.h"

#include "Engine/DicomFile.h"
#include "Engine/LargeStack.h"

#include <memory>

namespace Deid
{
  using namespace OrthancApi;

  void InstanceReidentifier::RethrowAsHttp(const DeidError& e, const std::string& label)
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


  std::string InstanceReidentifier::Apply(const void* data, size_t size, const RecipientPrivateKey& key,
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


  std::string InstanceReidentifier::ReadInstance(const std::string& id)
  {
    std::string dicom;
    if (!RestGet(dicom, "/instances/" + id + "/file", true))
    {
      throw HttpError::NotFound("Unknown instance: " + id);
    }
    return dicom;
  }


  Json::Value InstanceReidentifier::WithoutSecrets(const Json::Value& body)
  {
    Json::Value copy = body.isObject() ? body : Json::Value(Json::objectValue);
    copy.removeMember("PrivateKey");
    copy.removeMember("Password");
    return copy;
  }


  OperationDescription InstanceReidentifier::Describe(const std::string& level, const std::string& sourceId,
                                                      const Json::Value& body)
  {
    OperationDescription d;
    d.kind = "reidentify";
    d.level = level;
    d.sourceId = sourceId;
    d.request = WithoutSecrets(body);
    d.caller = CallerContext::GetCurrent();
    return d;
  }


  void InstanceReidentifier::Report(const OperationDescription& operation, size_t count, size_t failed,
                                    const std::vector<std::string>& newInstances,
                                    const std::vector<std::string>& newResources,
                                    const std::string& jobId)
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
}
