// Where the Orthanc-independent services (key store, configuration) log: the
// plugin sends it to Orthanc's log (Plugin.cpp), the command-line front end
// to stderr (the default). Messages never hold patient values.
#pragma once

#include <string>

namespace Deid
{
  namespace ServiceLog
  {
    using Sink = void (*)(const std::string& message);

    // nullptr restores the default (stderr).
    void SetErrorSink(Sink sink);

    void Error(const std::string& message);
  }
}
