// The summary of a run: counts, failures by reason (never patient values),
// throughput. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace Deid
{
  namespace Cli
  {
    class Summary
    {
    public:
      Summary();

      void AddSuccess(uint64_t inputBytes);
      void AddFailure(uint64_t inputBytes, const std::string& reason);
      void AddNotProcessed(size_t count, const std::string& reason);   // counted as failed
      void Finish();   // stops the clock

      size_t GetSucceeded() const;
      size_t GetFailed() const;
      size_t GetDone() const;   // files processed
      double GetSeconds() const;

      // Human summary (stderr) and the --summary-json document.
      std::string Describe(const std::string& command) const;
      std::string ToJson() const;

    private:
      mutable std::mutex mutex_;
      std::chrono::steady_clock::time_point start_;
      std::chrono::steady_clock::time_point end_;
      bool finished_ = false;
      size_t succeeded_ = 0;
      size_t failed_ = 0;
      size_t processed_ = 0;   // read and tried (not the files left by an interruption)
      uint64_t inputBytes_ = 0;
      std::map<std::string, size_t> failuresByReason_;
    };
  }
}
