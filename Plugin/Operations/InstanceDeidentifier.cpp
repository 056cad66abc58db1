#include "Operations/InstanceDeidentifier.h"

#include "Operations/EncryptionRecipients.h"

#include "Engine/DeidError.h"
#include "Engine/DicomFile.h"

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

    std::unique_ptr<DcmFileFormat> file;
    try
    {
      file = ParseDicom(data, size);
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
      output.dicom = WriteDicom(*file);
    }
    catch (const DeidError& e)
    {
      throw DeidError(e.GetCode(), "Cannot de-identify " + label + ": " + e.what());
    }
    return output;
  }
}
