#include "Operations/ConfiguredDestinations.h"

#include "Orthanc/OrthancApi.h"
#include "Rules/RuleError.h"

namespace Deid
{
  namespace ConfiguredDestinations
  {
    using OrthancApi::HttpError;

    static const char* const FORMS = "{\"Modality\": name}, {\"Peer\": name}, {\"DicomWeb\": name}, "
                                     "{\"Store\": true} or {\"Ingest\": true}";

    Rules::Destination Make(const std::string& kind, const std::string& name)
    {
      if (!Rules::Destination::IsKnownKind(kind))
      {
        throw HttpError::BadRequest("Unknown destination kind \"" + Rules::EscapeText(kind, 64) +
                                    "\" (Modality, Peer, DicomWeb, Store or Ingest)");
      }
      const bool named = (kind == "Modality" || kind == "Peer" || kind == "DicomWeb");
      if (named && name.empty())
      {
        throw HttpError::BadRequest("A destination of kind " + kind + " needs a name");
      }
      if (!named && !name.empty())
      {
        throw HttpError::BadRequest("A destination of kind " + kind + " has no name");
      }
      Rules::Destination destination;
      destination.kind = kind;
      destination.name = name;
      return destination;
    }

    Rules::Destination Parse(const Json::Value& value)
    {
      if (!value.isObject() || value.size() != 1)
      {
        throw HttpError::BadRequest(std::string("\"Destination\" must be one of ") + FORMS);
      }
      const std::string kind = value.getMemberNames().front();
      const Json::Value& v = value[kind];
      if (kind == "Modality" || kind == "Peer" || kind == "DicomWeb")
      {
        if (!v.isString() || v.asString().empty())
        {
          throw HttpError::BadRequest("\"Destination\": \"" + kind + "\" must be a configured name");
        }
        return Make(kind, v.asString());
      }
      else if (kind == "Store" || kind == "Ingest")
      {
        if (!v.isBool() || !v.asBool())
        {
          throw HttpError::BadRequest("\"Destination\": \"" + kind + "\" must be true");
        }
        return Make(kind, "");
      }
      throw HttpError::BadRequest("\"Destination\": unknown key \"" + Rules::EscapeText(kind, 64) +
                                  "\" (expected " + FORMS + ")");
    }

    static bool Contains(const Json::Value& names, const std::string& name)
    {
      if (names.isArray())
      {
        for (Json::ArrayIndex i = 0; i < names.size(); i++)
        {
          if (names[i].isString() && names[i].asString() == name)
          {
            return true;
          }
        }
      }
      else if (names.isObject())
      {
        return names.isMember(name);
      }
      return false;
    }

    void CheckConfigured(const Rules::Destination& destination)
    {
      const std::string name = "\"" + Rules::EscapeText(destination.name, 64) + "\"";
      Json::Value names;
      if (destination.kind == "Modality")
      {
        if (!OrthancApi::RestGet(names, "/modalities", true) || !Contains(names, destination.name))
        {
          throw HttpError::NotFound("Unknown DICOM modality " + name + " (not in the DicomModalities of Orthanc)");
        }
      }
      else if (destination.kind == "Peer")
      {
        if (!OrthancApi::RestGet(names, "/peers", true) || !Contains(names, destination.name))
        {
          throw HttpError::NotFound("Unknown Orthanc peer " + name + " (not in the OrthancPeers of Orthanc)");
        }
      }
      else if (destination.kind == "DicomWeb")
      {
        // The DICOMweb plugin serves its routes under "DicomWeb.Root" (default /dicom-web/).
        const Json::Value dicomWeb = OrthancApi::GetConfiguration()["DicomWeb"];
        std::string root = (dicomWeb.isObject() && dicomWeb["Root"].isString()) ? dicomWeb["Root"].asString()
                                                                                : "/dicom-web/";
        if (root.empty() || root.back() != '/')
        {
          root += '/';
        }
        if (!OrthancApi::RestGetAfterPlugins(names, root + "servers", true))
        {
          throw HttpError::NotFound("Unknown DICOMweb server " + name + " (the DICOMweb plugin is not loaded)");
        }
        if (!Contains(names, destination.name))
        {
          throw HttpError::NotFound("Unknown DICOMweb server " + name + " (not in DicomWeb.Servers)");
        }
      }
    }
  }
}
