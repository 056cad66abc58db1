// The input files of a run: files given, and every regular file under the
// folders given (recursed, sorted, symbolic links to folders not followed).
// Only paths are listed: the data is read file by file by the workers.
#pragma once

#include <string>
#include <vector>

namespace Deid
{
  namespace Cli
  {
    // Throws UsageError for an input that does not exist. The output folder
    // is skipped if it lies inside an input folder (a second run over the
    // same tree must not take the first run's output as input).
    std::vector<std::string> ListInputFiles(const std::vector<std::string>& inputs, const std::string& output);
  }
}
