// Providers keyed with a project secret (HMAC-SHA256): the same original
// gives the same replacement in every operation, on every node, for as long
// as the project secret is kept - and different projects give unrelated
// replacements. PS3.15 E.1-1a (U, D on PatientID) and E.3.6 (modified dates).
#pragma once

#include "IKeyStore.h"
#include "../Engine/Providers.h"

#include <map>
#include <memory>
#include <mutex>

namespace Deid
{
  // The per-project settings of the keyed providers (configuration
  // "Deidentification.Projects.<name>", defaults from the top level).
  struct ProjectSettings
  {
    std::string name = "default";
    std::string pseudonymPrefix = "ANON";
    unsigned int pseudonymDigits = 8;     // 1..18
    std::string uidRoot = "2.25";
    int32_t minDateOffsetDays = -3650;    // inclusive; 0 is never chosen
    int32_t maxDateOffsetDays = -1;

    void Validate() const;                // throws DeidError(BadOption)
  };

  // The text that identifies a patient for HMAC and mapping: compact JSON
  // {"IssuerOfPatientID":..,"PatientID":..}, or {"PatientName":..} when the
  // PatientID is empty. Holds original values: never log it.
  std::string CanonicalPatient(const PatientKey& patient);
  PatientKey ParseCanonicalPatient(const std::string& canonical);

  // U: root + "." + decimal of the first 128 bits of
  // HMAC-SHA256(secret, "uid:" + [scope + ":"] + original); under a root other
  // than 2.25 the number is reduced modulo 10^n so that the UID has at most 64
  // characters. The scope names the profile and options: two de-identified
  // versions of one instance have different content, so they must not share
  // a SOP Instance UID, while one profile gives the same UIDs every time.
  class HmacUidProvider : public IUidProvider
  {
  private:
    std::string secret_;
    std::string root_;
    std::string scope_;
    size_t maxDigits_;

  public:
    explicit HmacUidProvider(const std::string& secret, const std::string& root = "2.25",
                             const std::string& scope = "");
    std::string MapUid(const std::string& originalUid) override;
  };

  // PatientID/PatientName pseudonym: prefix + N digits taken from
  // HMAC-SHA256(secret, "pseudonym:" + attempt + ":" + patient), stored in the
  // key store. Two patients whose candidates collide are told apart by the
  // store's uniqueness: the later one takes its next candidate (attempt + 1).
  class KeyedPseudonymProvider : public IPseudonymProvider
  {
  private:
    IKeyStore& store_;
    ProjectSettings settings_;
    std::string secret_;
    std::mutex mutex_;
    std::map<std::string, std::string> cache_;   // canonical patient -> pseudonym

  public:
    static const char* const KIND;   // "PatientID", the mapping kind in the store

    KeyedPseudonymProvider(IKeyStore& store, const ProjectSettings& settings);

    Pseudonym GetPseudonym(const PatientKey& patient) override;

    // The n-th candidate (deterministic), exposed for tests.
    std::string GetCandidate(const std::string& canonicalPatient, unsigned int attempt) const;
  };

  // E.3.6 Retain Longitudinal Temporal Information with Modified Dates: one
  // offset per patient in [min, max] days, never 0, from
  // HMAC-SHA256(secret, "date-offset:" + patient).
  class HmacDateOffsetProvider : public IDateOffsetProvider
  {
  private:
    std::string secret_;
    int32_t min_;
    int32_t max_;

  public:
    HmacDateOffsetProvider(const std::string& secret, int32_t minDays, int32_t maxDays);
    int32_t GetOffsetDays(const PatientKey& patient) override;
  };

  // The three keyed providers of one project, ready for a
  // DeidentificationContext. The store must outlive them.
  struct KeyedProviderSet
  {
    std::unique_ptr<HmacUidProvider> uids;
    std::unique_ptr<KeyedPseudonymProvider> pseudonyms;
    std::unique_ptr<HmacDateOffsetProvider> dateOffsets;
  };

  // uidScope: see HmacUidProvider (empty for none).
  KeyedProviderSet CreateKeyedProviders(IKeyStore& store, const ProjectSettings& settings,
                                        const std::string& uidScope = "");
}
