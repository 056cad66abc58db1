// Re-identification of one instance (PS3.15 E.1.2), shared by the
// re-identification routes and job: decrypt the Encrypted Attributes
// Sequence with a recipient's private key, restore the original values, and
// describe/report the operation for the audit trail (never the key).
#pragma once

#include "Operations/DeidentificationEvents.h"

#include "Engine/DeidError.h"
#include "Engine/Reidentifier.h"

#include <json/value.h>

#include <string>
#include <vector>

namespace Deid
{
  class InstanceReidentifier
  {
  public:
    // The restored Part 10 file. A wrong key, a missing sequence or corrupted
    // content is HttpError(BadRequest) naming "label"; messages hold no value.
    static std::string Apply(const void* data, size_t size, const RecipientPrivateKey& key,
                             const std::string& label);

    // DeidError of the re-identifier -> HttpError 400 (the caller's key or
    // file is wrong), other codes -> 500.
    [[noreturn]] static void RethrowAsHttp(const DeidError& e, const std::string& label);

    // The stored file of an instance (HttpError 404 if unknown).
    static std::string ReadInstance(const std::string& id);

    // The request without its secrets ("PrivateKey", "Password").
    static Json::Value WithoutSecrets(const Json::Value& body);

    // kind "reidentify"; the caller of the current HTTP request.
    static OperationDescription Describe(const std::string& level, const std::string& sourceId,
                                         const Json::Value& body);

    // One audit record (DeidentificationEvents).
    static void Report(const OperationDescription& operation, size_t count, size_t failed,
                       const std::vector<std::string>& newInstances = std::vector<std::string>(),
                       const std::vector<std::string>& newResources = std::vector<std::string>(),
                       const std::string& jobId = std::string());
  };
}
