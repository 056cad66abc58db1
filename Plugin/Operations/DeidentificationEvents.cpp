#include "Operations/DeidentificationEvents.h"

#include "Operations/KeyStoreService.h"
#include "Orthanc/OrthancApi.h"

namespace Deid
{
  void DeidentificationEvents::ReportRefused(const OperationDescription& operation, const std::string& reason)
  {
    try
    {
      OrthancApi::LogWarning("De-identification refused by the caller policy: " + reason + " (" +
                             operation.kind + ", caller " + operation.caller + ")");
      if (KeyStoreService::IsInitialized())
      {
        OperationReport report;
        report.operation = operation;
        report.status = "Refused";
        report.reason = reason;
        KeyStoreService::Get().RecordOperation(report);
      }
    }
    catch (...)
    {
      // Reporting never breaks the answer.
    }
  }


  void DeidentificationEvents::ReportFinished(const OperationReport& report)
  {
    try
    {
      std::string message = "De-identification finished: " + report.operation.kind;
      if (!report.operation.level.empty())
      {
        message += " on " + report.operation.level + " " + report.operation.sourceId;
      }
      if (!report.jobId.empty())
      {
        message += ", job " + report.jobId;
      }
      message += ", profile \"" + report.operation.profileName + "\" (" +
        (report.operation.profile ? report.operation.profile->GetMethodDescription() : std::string()) + ")";
      message += ", " + std::to_string(report.instancesCount - report.failedInstancesCount) + "/" +
        std::to_string(report.instancesCount) + " instances";
      if (report.failedInstancesCount > 0)
      {
        message += ", " + std::to_string(report.failedInstancesCount) + " failed";
      }
      if (!report.destination.empty())
      {
        message += ", sent to " + report.destination + ": " + std::to_string(report.sentInstancesCount) +
          " sent, " + std::to_string(report.refusedInstancesCount) + " refused by the rules";
      }
      if (report.sourceDeleted)
      {
        message += ", source deleted";
      }
      OrthancApi::LogInfo(message);

      // The audit trail of the key store (never throws).
      if (KeyStoreService::IsInitialized())
      {
        KeyStoreService::Get().RecordOperation(report);
      }
    }
    catch (...)
    {
      // Reporting never breaks the operation.
    }
  }
}
