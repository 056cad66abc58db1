// Default providers: random UIDs (PS3.5 B.2, 2.25 root) and random pseudonyms,
// consistent within the life of one provider (one operation).
#include "DefaultProviders.h"
#include "DeidError.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <memory>

namespace Deid
{
  namespace
  {
    void RandomBytes(unsigned char* buffer, int size)
    {
      if (RAND_bytes(buffer, size) != 1)
      {
        throw DeidError(ErrorCode::Crypto, "OpenSSL RAND_bytes failed");
      }
    }

    std::string ToHex(const unsigned char* data, size_t size)
    {
      static const char digits[] = "0123456789ABCDEF";
      std::string s;
      s.reserve(2 * size);
      for (size_t i = 0; i < size; i++)
      {
        s.push_back(digits[data[i] >> 4]);
        s.push_back(digits[data[i] & 0x0F]);
      }
      return s;
    }
  }

  // PS3.5 B.2: "2.25." followed by the decimal form of a 128-bit UUID-sized
  // random integer (no leading zeros; at most 39 digits, 44 chars in total).
  std::string GenerateRandomUid()
  {
    unsigned char bytes[16];
    RandomBytes(bytes, sizeof(bytes));

    std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(BN_bin2bn(bytes, sizeof(bytes), nullptr), &BN_free);
    if (!bn)
    {
      throw DeidError(ErrorCode::Crypto, "OpenSSL BN_bin2bn failed");
    }

    char* dec = BN_bn2dec(bn.get());
    if (dec == nullptr)
    {
      throw DeidError(ErrorCode::Crypto, "OpenSSL BN_bn2dec failed");
    }

    std::string uid = std::string("2.25.") + dec;
    OPENSSL_free(dec);
    return uid;
  }

  std::string RandomUidProvider::MapUid(const std::string& originalUid)
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = map_.find(originalUid);
    if (found != map_.end())
    {
      return found->second;
    }

    std::string uid = GenerateRandomUid();
    map_[originalUid] = uid;
    return uid;
  }

  Pseudonym RandomPseudonymProvider::GetPseudonym(const PatientKey& patient)
  {
    // The patient name only identifies the patient when there is no ID.
    std::string key = patient.patientId + '\\' + patient.issuerOfPatientId + '\\' +
      (patient.patientId.empty() ? patient.patientName : std::string());

    std::lock_guard<std::mutex> lock(mutex_);
    auto found = map_.find(key);
    if (found != map_.end())
    {
      return found->second;
    }

    unsigned char bytes[8];
    RandomBytes(bytes, sizeof(bytes));
    Pseudonym p;
    p.patientId = "ANON" + ToHex(bytes, sizeof(bytes));   // 20 chars, fits LO
    p.patientName = p.patientId;                           // a valid PN (family name only)
    map_[key] = p;
    return p;
  }
}
