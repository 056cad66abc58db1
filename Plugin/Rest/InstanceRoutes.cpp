#include "Rest/InstanceRoutes.h"

#include "Operations/DeidentificationEvents.h"
#include "Configuration/DeidentificationRequest.h"
#include "Operations/InstanceDeidentifier.h"
#include "Orthanc/KnownKeys.h"
#include "Orthanc/OrthancApi.h"

#include "Engine/DicomFile.h"
#include "Engine/PixelPreview.h"

namespace Deid
{
  using namespace OrthancApi;

  // Read into Orthanc's buffer (no copy): a large instance is held once.
  static void ReadInstance(MemoryBuffer& dicom, const std::string& id)
  {
    if (!RestGet(dicom, "/instances/" + id + "/file", true))
    {
      Json::Value info;
      if (!RestGet(info, "/instances/" + id, true))
      {
        throw HttpError::NotFound("Unknown instance: " + id);
      }
      throw HttpError(OrthancPluginErrorCode_StorageAreaPlugin,
                      "Cannot read instance " + id + " from the Orthanc storage");
    }
  }

  static void Report(const OperationDescription& operation, bool failed,
                     const std::string& newInstance = std::string(),
                     const PixelCleaningResult* pixels = nullptr)
  {
    OperationReport report;
    if (pixels != nullptr && pixels->cleaned && !operation.sourceId.empty())
    {
      report.pixelRegions[operation.sourceId] = pixels->regions;
    }
    report.operation = operation;
    report.instancesCount = 1;
    report.failedInstancesCount = failed ? 1 : 0;
    if (!newInstance.empty())
    {
      report.stored = true;
      report.newInstances.push_back(newInstance);
      report.newResources.push_back(newInstance);
    }
    DeidentificationEvents::ReportFinished(report);
  }


  static void DeidentifyInstance(RestAnswer& answer, const RestRequest& request)
  {
    const std::string& id = request.groups.at(0);
    const Json::Value body = request.GetJsonBody();
    KnownKeys::Check(body, KnownKeys::Join(DeidentificationRequest::GetRequestKeys(), { "Store" }));
    DeidentificationRequest r = DeidentificationRequest::FromJson(body);
    MemoryBuffer dicom;
    ReadInstance(dicom, id);

    OperationDescription operation = r.Describe("instance", "Instance", id);
    std::unique_ptr<OperationProviders> providers = ProviderFactory::Create(operation);

    DeidentifiedInstance output;
    try
    {
      output = InstanceDeidentifier::Apply(dicom.GetData(), dicom.GetSize(), operation,
                                           providers->GetContext(), DeidentificationSettings(),
                                           "instance " + id);
    }
    catch (...)
    {
      Report(operation, true);
      throw;
    }
    dicom.Clear();   // the output no longer borrows from the input

    if (!r.store)
    {
      Report(operation, false, std::string(), &output.result.pixels);
      answer.AnswerBuffer(output.dicom, "application/dicom");
      return;
    }

    Json::Value stored;
    if (!RestPost(stored, "/instances", output.dicom.data(), output.dicom.size(), true) ||
        !stored["ID"].isString())
    {
      Report(operation, true);
      throw HttpError(OrthancPluginErrorCode_InternalError,
                      "Orthanc refused to store the de-identified copy of instance " + id);
    }

    const std::string newId = stored["ID"].asString();
    RestPut("/instances/" + newId + "/metadata/" + Configuration::Get().GetSourceMetadata(), id);
    Report(operation, false, newId, &output.result.pixels);
    answer.AnswerJson(stored);
  }


  static void PreviewInstance(RestAnswer& answer, const RestRequest& request)
  {
    const std::string& id = request.groups.at(0);
    const Json::Value body = request.GetJsonBody();
    KnownKeys::Check(body, KnownKeys::Join(DeidentificationRequest::GetRequestKeys(), { "Pixels" }));
    DeidentificationRequest r = DeidentificationRequest::FromJson(body);
    MemoryBuffer dicom;
    ReadInstance(dicom, id);

    OperationDescription operation = r.Describe("preview", "Instance", id);
    std::unique_ptr<OperationProviders> providers = ProviderFactory::Create(operation);

    DeidentificationSettings settings;
    settings.recordChanges = true;
    DeidentifiedInstance output = InstanceDeidentifier::Apply(
      dicom.GetData(), dicom.GetSize(), operation, providers->GetContext(), settings, "instance " + id);

    if (body.isMember("Pixels"))
    {
      if (!body["Pixels"].isBool())
      {
        throw HttpError::BadRequest("\"Pixels\" must be true or false");
      }
      if (body["Pixels"].asBool())
      {
        // Clean Pixel Data (E.3.1): the de-identified first frame, regions outlined.
        std::unique_ptr<DcmFileFormat> file = ParseDicom(output.dicom.data(), output.dicom.size());
        RgbImage image = RenderFirstFrame(*file->getDataset());
        OutlineRectangles(image, output.result.pixels.regions);
        answer.AnswerBuffer(CompressPngRgb24(image.width, image.height, image.pixels), "image/png");
        return;
      }
    }

    // Original values, answered only to this explicit request; never logged.
    Json::Value changes(Json::arrayValue);
    for (const ElementChange& c : output.result.changes)
    {
      Json::Value change(Json::objectValue);
      change["Tag"] = c.tag;
      change["Name"] = c.name;
      change["Path"] = c.path;
      change["Action"] = c.action;
      change["Option"] = c.option;
      change["Before"] = c.before ? Json::Value(*c.before) : Json::Value(Json::nullValue);
      change["After"] = c.after ? Json::Value(*c.after) : Json::Value(Json::nullValue);
      if (!c.reason.empty())
      {
        change["Reason"] = c.reason;   // what decided the action beyond Table E.1-1 (PS3.3 Type)
      }
      changes.append(change);
    }
    answer.AnswerJson(changes);
  }


  static void DeidentifyUpload(RestAnswer& answer, const RestRequest& request)
  {
    DeidentificationRequest r = DeidentificationRequest::FromArguments(request);
    OperationDescription operation = r.Describe("tool", "", "");
    std::unique_ptr<OperationProviders> providers = ProviderFactory::Create(operation);

    DeidentifiedInstance output;
    try
    {
      output = InstanceDeidentifier::Apply(request.body, request.bodySize, operation,
                                           providers->GetContext(), DeidentificationSettings(),
                                           "the uploaded file");
    }
    catch (...)
    {
      Report(operation, true);
      throw;
    }
    Report(operation, false);
    answer.AnswerBuffer(output.dicom, "application/dicom");
  }


  void RegisterInstanceRoutes()
  {
    RegisterRoute("/instances/([^/]+)/deidentify", OrthancPluginHttpMethod_Post, DeidentifyInstance);
    RegisterRoute("/instances/([^/]+)/deidentify/preview", OrthancPluginHttpMethod_Post, PreviewInstance);
    RegisterRoute("/tools/deidentify", OrthancPluginHttpMethod_Post, DeidentifyUpload);
  }
}
