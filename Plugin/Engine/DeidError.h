// Errors raised by the de-identification engine. Messages never contain
// patient data: they name tags, options and instances, never values.
#pragma once

#include <stdexcept>
#include <string>

namespace Deid
{
  enum class ErrorCode
  {
    BadInput,         // the input is not DICOM, is truncated, or cannot be parsed
    BadOption,        // an unknown option name or CID 7050 code
    BadProfile,       // profile tables or a profile definition are invalid
    NotImplemented,   // a recognized option or an encoding that this version refuses
    Refused,          // the profile refuses the instance (burned-in text without CleanPixelData)
    Crypto,           // encryption/decryption failure (wrong key, corrupted content)
    Storage,          // key store failure
    Internal
  };

  class DeidError : public std::runtime_error
  {
  private:
    ErrorCode code_;

  public:
    DeidError(ErrorCode code, const std::string& message) :
      std::runtime_error(message),
      code_(code)
    {
    }

    ErrorCode GetCode() const
    {
      return code_;
    }
  };
}
