#include "KeyedProviders.h"

#include "KeyStoreCrypto.h"
#include "../Engine/DeidError.h"

#include <json/json.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>

#include <cstring>
#include <memory>

namespace Deid
{
  namespace
  {
    const size_t MAX_UID_LENGTH = 64;       // PS3.5 9.1
    const size_t MIN_UID_DIGITS = 20;       // keep >= 66 bits of the HMAC under long roots

    uint64_t First64Bits(const std::string& digest)
    {
      uint64_t v = 0;
      for (size_t i = 0; i < 8; i++)
      {
        v = (v << 8) | static_cast<unsigned char>(digest[i]);
      }
      return v;
    }

    bool IsValidUidRoot(const std::string& root)
    {
      if (root.empty() || root.size() > MAX_UID_LENGTH)
      {
        return false;
      }
      size_t start = 0;
      for (;;)
      {
        size_t dot = root.find('.', start);
        std::string component = root.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (component.empty() ||
            component.find_first_not_of("0123456789") != std::string::npos ||
            (component.size() > 1 && component[0] == '0'))
        {
          return false;
        }
        if (dot == std::string::npos)
        {
          return true;
        }
        start = dot + 1;
      }
    }

    struct BnDeleter
    {
      void operator()(BIGNUM* b) const { BN_free(b); }
    };

    struct BnCtxDeleter
    {
      void operator()(BN_CTX* c) const { BN_CTX_free(c); }
    };
  }


  void ProjectSettings::Validate() const
  {
    if (name.empty())
    {
      throw DeidError(ErrorCode::BadOption, "A project name cannot be empty");
    }
    if (pseudonymDigits < 1 || pseudonymDigits > 18)
    {
      throw DeidError(ErrorCode::BadOption, "Pseudonym \"Digits\" must be between 1 and 18 (project " + name + ")");
    }
    if (pseudonymPrefix.size() + pseudonymDigits > 64)
    {
      throw DeidError(ErrorCode::BadOption, "Pseudonym prefix + digits exceed 64 characters, the LO limit "
                      "of PatientID (project " + name + ")");
    }
    if (pseudonymPrefix.find('\\') != std::string::npos)
    {
      throw DeidError(ErrorCode::BadOption, "A pseudonym prefix cannot contain a backslash (project " + name + ")");
    }
    if (!IsValidUidRoot(uidRoot) || uidRoot.size() + 1 + MIN_UID_DIGITS > MAX_UID_LENGTH)
    {
      throw DeidError(ErrorCode::BadOption, "Invalid \"UidRoot\" (digits and dots, no leading zeros, at most " +
                      std::to_string(MAX_UID_LENGTH - 1 - MIN_UID_DIGITS) + " characters) (project " + name + ")");
    }
    if (minDateOffsetDays > maxDateOffsetDays ||
        (minDateOffsetDays == 0 && maxDateOffsetDays == 0))
    {
      throw DeidError(ErrorCode::BadOption, "The date offset range must be [min, max] with min <= max and "
                      "contain a non-zero value (project " + name + ")");
    }
  }


  std::string CanonicalPatient(const PatientKey& patient)
  {
    Json::Value v(Json::objectValue);
    if (!patient.patientId.empty())
    {
      v["PatientID"] = patient.patientId;
      v["IssuerOfPatientID"] = patient.issuerOfPatientId;
    }
    else
    {
      v["PatientName"] = patient.patientName;
    }

    Json::StreamWriterBuilder builder;
    builder["indentation"] = "";
    builder["emitUTF8"] = true;
    return Json::writeString(builder, v);   // keys in sorted order: deterministic
  }


  PatientKey ParseCanonicalPatient(const std::string& canonical)
  {
    Json::Value v;
    Json::CharReaderBuilder builder;
    std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
    std::string errors;
    if (!reader->parse(canonical.data(), canonical.data() + canonical.size(), &v, &errors) ||
        !v.isObject())
    {
      throw DeidError(ErrorCode::Storage, "Corrupted patient mapping in the key store");
    }

    PatientKey key;
    key.patientId = v.get("PatientID", "").asString();
    key.issuerOfPatientId = v.get("IssuerOfPatientID", "").asString();
    key.patientName = v.get("PatientName", "").asString();
    return key;
  }


  HmacUidProvider::HmacUidProvider(const std::string& secret, const std::string& root,
                                   const std::string& scope) :
    secret_(secret),
    root_(root),
    scope_(scope)
  {
    if (!IsValidUidRoot(root) || root.size() + 1 + MIN_UID_DIGITS > MAX_UID_LENGTH)
    {
      throw DeidError(ErrorCode::BadOption, "Invalid UID root");
    }
    maxDigits_ = MAX_UID_LENGTH - root.size() - 1;
  }


  std::string HmacUidProvider::MapUid(const std::string& originalUid)
  {
    const std::string digest = KeyStoreCrypto::HmacSha256(
      secret_, "uid:" + (scope_.empty() ? std::string() : scope_ + ":") + originalUid);

    std::unique_ptr<BIGNUM, BnDeleter> n(BN_bin2bn(reinterpret_cast<const unsigned char*>(digest.data()),
                                                   16, nullptr));
    if (!n)
    {
      throw DeidError(ErrorCode::Crypto, "OpenSSL failure: BN_bin2bn");
    }

    // 2^128 has 39 decimal digits: reduce only when the root leaves less room.
    if (maxDigits_ < 39)
    {
      std::unique_ptr<BN_CTX, BnCtxDeleter> ctx(BN_CTX_new());
      std::unique_ptr<BIGNUM, BnDeleter> ten(BN_new()), exponent(BN_new()), modulus(BN_new()),
        reduced(BN_new());
      if (!ctx || !ten || !exponent || !modulus || !reduced ||
          !BN_set_word(ten.get(), 10) || !BN_set_word(exponent.get(), maxDigits_) ||
          !BN_exp(modulus.get(), ten.get(), exponent.get(), ctx.get()) ||
          !BN_nnmod(reduced.get(), n.get(), modulus.get(), ctx.get()))
      {
        throw DeidError(ErrorCode::Crypto, "OpenSSL failure: BN arithmetic");
      }
      n = std::move(reduced);
    }

    char* decimal = BN_bn2dec(n.get());
    if (decimal == nullptr)
    {
      throw DeidError(ErrorCode::Crypto, "OpenSSL failure: BN_bn2dec");
    }
    std::string result = root_ + "." + decimal;   // BN_bn2dec: no leading zeros ("0" for zero)
    OPENSSL_free(decimal);
    return result;
  }


  const char* const KeyedPseudonymProvider::KIND = "PatientID";


  KeyedPseudonymProvider::KeyedPseudonymProvider(IKeyStore& store, const ProjectSettings& settings) :
    store_(store),
    settings_(settings)
  {
    settings_.Validate();
    secret_ = store_.GetOrCreateProjectSecret(settings_.name);
  }


  std::string KeyedPseudonymProvider::GetCandidate(const std::string& canonicalPatient, unsigned int attempt) const
  {
    const std::string digest = KeyStoreCrypto::HmacSha256(
      secret_, "pseudonym:" + std::to_string(attempt) + ":" + canonicalPatient);

    uint64_t modulus = 1;
    for (unsigned int i = 0; i < settings_.pseudonymDigits; i++)
    {
      modulus *= 10;
    }

    std::string digits = std::to_string(First64Bits(digest) % modulus);
    return settings_.pseudonymPrefix + std::string(settings_.pseudonymDigits - digits.size(), '0') + digits;
  }


  Pseudonym KeyedPseudonymProvider::GetPseudonym(const PatientKey& patient)
  {
    const std::string canonical = CanonicalPatient(patient);

    std::string value;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto found = cache_.find(canonical);
      if (found != cache_.end())
      {
        value = found->second;
      }
    }

    if (value.empty())
    {
      value = store_.GetOrCreatePseudonym(
        settings_.name, KIND, canonical,
        [this, &canonical](unsigned int attempt) { return GetCandidate(canonical, attempt); });

      std::lock_guard<std::mutex> lock(mutex_);
      cache_[canonical] = value;
    }

    Pseudonym result;
    result.patientId = value;
    result.patientName = value;
    return result;
  }


  HmacDateOffsetProvider::HmacDateOffsetProvider(const std::string& secret, int32_t minDays, int32_t maxDays) :
    secret_(secret),
    min_(minDays),
    max_(maxDays)
  {
    if (min_ > max_ || (min_ == 0 && max_ == 0))
    {
      throw DeidError(ErrorCode::BadOption, "The date offset range must contain a non-zero value");
    }
  }


  int32_t HmacDateOffsetProvider::GetOffsetDays(const PatientKey& patient)
  {
    const std::string digest = KeyStoreCrypto::HmacSha256(secret_, "date-offset:" + CanonicalPatient(patient));

    // The values of [min, max] without 0.
    const bool containsZero = (min_ <= 0 && max_ >= 0);
    const uint64_t count = static_cast<uint64_t>(static_cast<int64_t>(max_) - min_ + 1) - (containsZero ? 1 : 0);

    int64_t value = static_cast<int64_t>(min_) + static_cast<int64_t>(First64Bits(digest) % count);
    if (containsZero && value >= 0)
    {
      value++;
    }
    return static_cast<int32_t>(value);
  }


  KeyedProviderSet CreateKeyedProviders(IKeyStore& store, const ProjectSettings& settings,
                                        const std::string& uidScope)
  {
    settings.Validate();
    const std::string secret = store.GetOrCreateProjectSecret(settings.name);

    KeyedProviderSet set;
    set.uids = std::make_unique<HmacUidProvider>(secret, settings.uidRoot, uidScope);
    set.pseudonyms = std::make_unique<KeyedPseudonymProvider>(store, settings);
    set.dateOffsets = std::make_unique<HmacDateOffsetProvider>(secret, settings.minDateOffsetDays,
                                                               settings.maxDateOffsetDays);
    return set;
  }
}
