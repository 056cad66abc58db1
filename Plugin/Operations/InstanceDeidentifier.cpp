#include "Operations/InstanceDeidentifier.h"

#include "Operations/EncryptionRecipients.h"

#include "Engine/DeidError.h"
#include "Engine/DicomFile.h"
#include "Engine/LargeStack.h"
#include "Engine/NestingDepth.h"

#include <dcmtk/dcmdata/dcdeftag.h>

namespace Deid
{
  // PS3.15 E.1.1 step 4: the Encrypted Attributes Sequence. The encryption
  // feature decides here whether it needs the original values and adds the
  // sequence to the de-identified file.
  static bool NeedsOriginals(const OperationDescription& operation)
  {
    return EncryptionRecipients::ForOperation(operation) != nullptr;
  }

  static void AddEncryptedAttributes(DcmFileFormat& file,
                                     DeidentificationResult& result,
                                     const OperationDescription& operation)
  {
    std::shared_ptr<const EncryptedAttributesWriter> writer = EncryptionRecipients::ForOperation(operation);
    if (writer && result.modifiedAttributes)
    {
      writer->Protect(*file.getDataset(), *result.modifiedAttributes);
    }
  }

  static std::string GetUid(DcmDataset& dataset, const DcmTagKey& tag)
  {
    OFString value;
    return dataset.findAndGetOFString(tag, value).good() ? std::string(value.c_str()) : std::string();
  }


  static DeidentifiedInstance ApplyOnLargeStack(const void* data, size_t size,
                                                const OperationDescription& operation,
                                                DeidentificationContext& context,
                                                const DeidentificationSettings& settings,
                                                const std::string& label)
  {
    std::unique_ptr<DcmFileFormat> file;
    try
    {
      // The pixel data stays in "data" (not copied): the file and what is
      // copied from it (the originals of E.1.1) live only in this function.
      file = ParseDicomBorrowing(data, size);
    }
    catch (const DeidError& e)
    {
      throw DeidError(e.GetCode(), label + " is not a valid DICOM file: " + e.what());
    }

    DeidentificationSettings s = settings;
    if (NeedsOriginals(operation))
    {
      s.collectOriginals = true;
    }

    Deidentifier deidentifier(*operation.profile);
    DeidentifiedInstance output;
    try
    {
      output.result = deidentifier.Apply(*file, context, s);
      AddEncryptedAttributes(*file, output.result, operation);

      // What Orthanc stores must stay within what it (and the engine) can
      // parse: the input was checked, this checks what the walk made of it
      // (e.g. UN values parsed as sequences).
      if (GetNestingDepth(*file) > GetMaximumNestingDepth())
      {
        throw DeidError(ErrorCode::BadInput, "the output would have sequences nested more than " +
                        std::to_string(GetMaximumNestingDepth()) + " levels deep (the maximum nesting depth)");
      }
      output.studyInstanceUid = GetUid(*file->getDataset(), DCM_StudyInstanceUID);
      output.seriesInstanceUid = GetUid(*file->getDataset(), DCM_SeriesInstanceUID);
      output.sopInstanceUid = GetUid(*file->getDataset(), DCM_SOPInstanceUID);
      output.dicom = WriteDicom(*file);
      output.result.modifiedAttributes.reset();   // may borrow from "data": not handed out
    }
    catch (const DeidError& e)
    {
      throw DeidError(e.GetCode(), "Cannot de-identify " + label + ": " + e.what());
    }
    return output;
  }


  DeidentifiedInstance InstanceDeidentifier::Apply(const void* data, size_t size,
                                                   const OperationDescription& operation,
                                                   DeidentificationContext& context,
                                                   const DeidentificationSettings& settings,
                                                   const std::string& label)
  {
    if (!operation.profile)
    {
      throw DeidError(ErrorCode::Internal, "No profile for the de-identification of " + label);
    }

    // Parsing, the walk, the encryption and the writer all recurse once per
    // nesting level: the whole work runs on a large stack, whatever the
    // caller's thread (Orthanc's HTTP threads have 100 KB).
    DeidentifiedInstance output;
    LargeStack::Run([&]() { output = ApplyOnLargeStack(data, size, operation, context, settings, label); });
    return output;
  }
}
