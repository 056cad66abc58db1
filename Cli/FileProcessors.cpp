#include "FileProcessors.h"

#include "Operations/InstanceDeidentifier.h"

#include "Engine/DeidError.h"
#include "Engine/DicomFile.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <unistd.h>

namespace Deid
{
  namespace Cli
  {
    const char* const NOT_DICOM = "not a DICOM file";

    namespace
    {
      const char* const LABEL = "the file";

      // The whole file in one read (its size from the file system).
      std::string ReadInput(const std::string& path, uint64_t& inputBytes)
      {
        std::ifstream in(path, std::ios::binary | std::ios::ate);
        if (!in)
        {
          throw FileFailure("cannot read the file");
        }
        const std::streamoff size = in.tellg();
        if (size < 0 || !in.seekg(0))
        {
          throw FileFailure("cannot read the file");
        }
        std::string data(static_cast<size_t>(size), '\0');
        if (size > 0 && !in.read(&data[0], size))
        {
          throw FileFailure("cannot read the file");
        }
        inputBytes = data.size();
        return data;
      }

      bool HasDicmPrefix(const std::string& data)
      {
        return data.size() >= 132 && data.compare(128, 4, "DICM") == 0;
      }

      std::string StripPrefix(const std::string& message, const std::string& prefix)
      {
        return message.compare(0, prefix.size(), prefix) == 0 ? message.substr(prefix.size()) : message;
      }

      // The reason of an engine error: engine messages name tags, options
      // and limits, never values (Engine/DeidError.h); the label is dropped.
      std::string Reason(const DeidError& e, const std::string& data)
      {
        const std::string message = e.what();
        if (e.GetCode() == ErrorCode::BadInput && !HasDicmPrefix(data) &&
            (message.find("Not a DICOM file") != std::string::npos ||
             message.find("Cannot parse DICOM") != std::string::npos ||
             message.find("not a DICOM file") != std::string::npos))
        {
          return NOT_DICOM;
        }
        std::string reason = StripPrefix(message, std::string(LABEL) + " is not a valid DICOM file: ");
        reason = StripPrefix(reason, std::string("Cannot de-identify ") + LABEL + ": ");
        reason = StripPrefix(reason, std::string("Cannot re-identify ") + LABEL + ": ");
        return reason;
      }

      // A UID as a file or folder name: digits and dots only (PS3.5 9.1), so
      // that no value can escape the output folder.
      bool IsSafeUid(const std::string& uid)
      {
        return !uid.empty() && uid.size() <= 64 && uid[0] != '.' &&
          uid.find_first_not_of("0123456789.") == std::string::npos;
      }

      void WriteOutput(const std::string& outputDir, const std::string& study, const std::string& series,
                       const std::string& sop, const std::string& dicom)
      {
        if (!IsSafeUid(study) || !IsSafeUid(series) || !IsSafeUid(sop))
        {
          throw FileFailure("a Study, Series or SOP Instance UID of the output is missing or not a valid UID");
        }
        namespace fs = std::filesystem;
        const fs::path folder = fs::path(outputDir) / study / series;
        std::error_code error;
        fs::create_directories(folder, error);
        const fs::path target = folder / (sop + ".dcm");
        // Written next to the target, then renamed: no partial file under the final name.
        const fs::path temporary = folder / ("." + sop + ".dcm." + std::to_string(getpid()) + "." +
                                             std::to_string(std::hash<std::thread::id>()(std::this_thread::get_id())));
        {
          std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
          if (!out || !out.write(dicom.data(), static_cast<std::streamsize>(dicom.size())) || !out.flush())
          {
            fs::remove(temporary, error);
            throw FileFailure("cannot write the output file");
          }
        }
        fs::rename(temporary, target, error);
        if (error)
        {
          fs::remove(temporary, error);
          throw FileFailure("cannot write the output file");
        }
      }

      std::string GetUid(DcmDataset& dataset, const DcmTagKey& tag)
      {
        OFString value;
        return dataset.findAndGetOFString(tag, value).good() ? std::string(value.c_str()) : std::string();
      }
    }


    void DeidentifyFile(const std::string& path, uint64_t& inputBytes, const std::string& outputDir,
                        const OperationDescription& operation, DeidentificationContext& context)
    {
      std::string data = ReadInput(path, inputBytes);
      DeidentifiedInstance output;
      try
      {
        output = InstanceDeidentifier::Apply(data.data(), data.size(), operation, context,
                                             DeidentificationSettings(), LABEL);
      }
      catch (const DeidError& e)
      {
        throw FileFailure(Reason(e, data));
      }
      data.clear();
      data.shrink_to_fit();
      WriteOutput(outputDir, output.studyInstanceUid, output.seriesInstanceUid, output.sopInstanceUid, output.dicom);
    }


    void ReidentifyFile(const std::string& path, uint64_t& inputBytes, const std::string& outputDir,
                        const RecipientPrivateKey& key)
    {
      std::string data = ReadInput(path, inputBytes);
      std::string restored, study, series, sop;
      try
      {
        // PS3.15 E.1.2, as the plugin's re-identification (InstanceReidentifier).
        std::unique_ptr<DcmFileFormat> file = ParseDicom(data.data(), data.size());
        Reidentify(*file, key);
        study = GetUid(*file->getDataset(), DCM_StudyInstanceUID);
        series = GetUid(*file->getDataset(), DCM_SeriesInstanceUID);
        sop = GetUid(*file->getDataset(), DCM_SOPInstanceUID);
        restored = WriteDicom(*file);
      }
      catch (const DeidError& e)
      {
        throw FileFailure(Reason(e, data));
      }
      data.clear();
      WriteOutput(outputDir, study, series, sop, restored);
    }
  }
}
