// The command line of orthanc-deidentify (see README, "Command-line front end"):
//   orthanc-deidentify deidentify [OPTIONS] INPUT... --output DIR
//   orthanc-deidentify reidentify [OPTIONS] INPUT... --output DIR
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace Deid
{
  namespace Cli
  {
    // A usage or configuration error: exit code 2.
    class UsageError : public std::runtime_error
    {
    public:
      explicit UsageError(const std::string& message) : std::runtime_error(message) {}
    };

    enum class ProgressMode { Auto, On, Off };

    struct CommandLine
    {
      std::string command;                 // "deidentify" or "reidentify"
      std::vector<std::string> inputs;     // files or folders
      std::string output;                  // -o, --output
      std::string config;                  // -c, --config (empty: built-in defaults, keys in memory)
      std::string request;                 // -r, --request: JSON text (@FILE already read)
      unsigned int jobs = 0;               // -j, --jobs (0: the number of cores)
      std::string summaryJson;             // --summary-json
      ProgressMode progress = ProgressMode::Auto;
      std::string keyFile;                 // -k, --key (reidentify): PEM private key of a recipient
      std::string keyPasswordFile;         // --key-password-file (reidentify)
      bool help = false;
    };

    // Throws UsageError naming the offending argument.
    CommandLine ParseCommandLine(int argc, const char* const argv[]);

    const char* GetUsage();

    // The whole content of a file; throws UsageError naming "what".
    std::string ReadWholeFile(const std::string& path, const std::string& what);
  }
}
