#include "Summary.h"

#include <json/value.h>
#include <json/writer.h>

#include <cstdio>

namespace Deid
{
  namespace Cli
  {
    Summary::Summary() : start_(std::chrono::steady_clock::now())
    {
    }

    void Summary::AddSuccess(uint64_t inputBytes)
    {
      std::lock_guard<std::mutex> lock(mutex_);
      succeeded_++;
      processed_++;
      inputBytes_ += inputBytes;
    }

    void Summary::AddFailure(uint64_t inputBytes, const std::string& reason)
    {
      std::lock_guard<std::mutex> lock(mutex_);
      failed_++;
      processed_++;
      inputBytes_ += inputBytes;
      failuresByReason_[reason]++;
    }

    void Summary::AddNotProcessed(size_t count, const std::string& reason)
    {
      if (count > 0)
      {
        std::lock_guard<std::mutex> lock(mutex_);
        failed_ += count;
        failuresByReason_[reason] += count;
      }
    }

    void Summary::Finish()
    {
      std::lock_guard<std::mutex> lock(mutex_);
      end_ = std::chrono::steady_clock::now();
      finished_ = true;
    }

    size_t Summary::GetSucceeded() const
    {
      std::lock_guard<std::mutex> lock(mutex_);
      return succeeded_;
    }

    size_t Summary::GetFailed() const
    {
      std::lock_guard<std::mutex> lock(mutex_);
      return failed_;
    }

    size_t Summary::GetDone() const
    {
      std::lock_guard<std::mutex> lock(mutex_);
      return processed_;
    }

    double Summary::GetSeconds() const
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const auto end = finished_ ? end_ : std::chrono::steady_clock::now();
      return std::chrono::duration<double>(end - start_).count();
    }

    static double Rate(double amount, double seconds)
    {
      return seconds > 0 ? amount / seconds : 0.0;
    }

    std::string Summary::Describe(const std::string& command) const
    {
      const double seconds = GetSeconds();
      std::lock_guard<std::mutex> lock(mutex_);
      const size_t total = processed_;
      char line[512];
      std::snprintf(line, sizeof(line),
                    "orthanc-deidentify %s: %zu succeeded, %zu failed, %.2f s, %.1f instances/s, %.1f MB/s "
                    "(%.1f MB read)\n",
                    command.c_str(), succeeded_, failed_, seconds, Rate(static_cast<double>(total), seconds),
                    Rate(static_cast<double>(inputBytes_) / 1e6, seconds), static_cast<double>(inputBytes_) / 1e6);
      std::string text = line;
      for (const auto& f : failuresByReason_)
      {
        text += "  failed: " + std::to_string(f.second) + " x " + f.first + "\n";
      }
      return text;
    }

    std::string Summary::ToJson() const
    {
      const double seconds = GetSeconds();
      std::lock_guard<std::mutex> lock(mutex_);
      Json::Value s(Json::objectValue);
      s["Succeeded"] = static_cast<Json::UInt64>(succeeded_);
      s["Failed"] = static_cast<Json::UInt64>(failed_);
      s["FailuresByReason"] = Json::Value(Json::objectValue);
      for (const auto& f : failuresByReason_)
      {
        s["FailuresByReason"][f.first] = static_cast<Json::UInt64>(f.second);
      }
      s["Seconds"] = seconds;
      s["InstancesPerSecond"] = Rate(static_cast<double>(processed_), seconds);
      s["MegabytesPerSecond"] = Rate(static_cast<double>(inputBytes_) / 1e6, seconds);
      s["InputBytes"] = static_cast<Json::UInt64>(inputBytes_);
      Json::StreamWriterBuilder builder;
      builder["indentation"] = "  ";
      return Json::writeString(builder, s) + "\n";
    }
  }
}
