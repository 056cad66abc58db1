// Runs one task per input file on N worker threads (each with the engine's
// large stack), taking the next path from the shared list: at most N files
// are in memory at once, whatever the number of files. Optionally draws a
// progress bar on stderr.
#pragma once

#include "Summary.h"

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace Deid
{
  namespace Cli
  {
    // A file that failed; "reason" is a category or an engine message
    // (tags and names only, never a patient value).
    class FileFailure : public std::runtime_error
    {
    public:
      explicit FileFailure(const std::string& reason) : std::runtime_error(reason) {}
    };

    // Processes one file; sets "inputBytes" to what it read. Throws FileFailure.
    using FileTask = std::function<void(const std::string& path, uint64_t& inputBytes)>;

    // After SIGINT or SIGTERM, the workers finish their current file and
    // take no other; the files not processed are counted as failed
    // ("not processed: interrupted").
    void StopOnSignals();

    void RunInParallel(const std::vector<std::string>& files, unsigned int jobs, bool progress,
                       const FileTask& task, Summary& summary);
  }
}
