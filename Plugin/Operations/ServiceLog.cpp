#include "Operations/ServiceLog.h"

#include "Engine/SafeText.h"

#include <atomic>
#include <cstdio>

namespace Deid
{
  namespace ServiceLog
  {
    namespace
    {
      std::atomic<Sink> errorSink_{ nullptr };
    }

    void SetErrorSink(Sink sink)
    {
      errorSink_ = sink;
    }

    void Error(const std::string& message)
    {
      Sink sink = errorSink_;
      if (sink != nullptr)
      {
        sink(message);
      }
      else
      {
        std::fprintf(stderr, "%s\n", SafeText::Message(message).c_str());
      }
    }
  }
}
