// Providers that need no key store: consistent within one operation only.
#pragma once

#include "Providers.h"

#include <map>
#include <mutex>

namespace Deid
{
  // New random UIDs under the 2.25 root (PS3.5 B.2), one per original, kept
  // in memory for the life of the provider (one operation).
  class RandomUidProvider : public IUidProvider
  {
  private:
    std::mutex mutex_;
    std::map<std::string, std::string> map_;

  public:
    std::string MapUid(const std::string& originalUid) override;
  };

  // A random pseudonym per patient for the life of the provider.
  class RandomPseudonymProvider : public IPseudonymProvider
  {
  private:
    std::mutex mutex_;
    std::map<std::string, Pseudonym> map_;

  public:
    Pseudonym GetPseudonym(const PatientKey& patient) override;
  };

  // A fixed offset for every patient (0 unless given).
  class FixedDateOffsetProvider : public IDateOffsetProvider
  {
  private:
    int32_t days_;

  public:
    explicit FixedDateOffsetProvider(int32_t days = 0) : days_(days) {}
    int32_t GetOffsetDays(const PatientKey&) override { return days_; }
  };

  // Cleans nothing: every C falls back to the Basic Profile action (removal).
  class ConservativeTextCleaner : public ITextCleaner
  {
  public:
    bool CleanText(const CleaningContext&, std::string&) override { return false; }
    bool CleanSequence(const CleaningContext&, DcmItem&) override { return false; }
  };

  // A new UID under the 2.25 root from 128 random bits (OpenSSL RAND_bytes).
  std::string GenerateRandomUid();
}
