#include "InputFiles.h"

#include "CommandLine.h"

#include <algorithm>
#include <filesystem>

namespace Deid
{
  namespace Cli
  {
    std::vector<std::string> ListInputFiles(const std::vector<std::string>& inputs, const std::string& output)
    {
      namespace fs = std::filesystem;
      std::vector<std::string> files;
      for (const std::string& input : inputs)
      {
        std::error_code error;
        const fs::file_status status = fs::status(input, error);
        if (error || !fs::exists(status))
        {
          throw UsageError("no such file or folder: " + input);
        }
        if (fs::is_directory(status))
        {
          std::vector<std::string> found;
          fs::recursive_directory_iterator it(input, fs::directory_options::skip_permission_denied, error);
          if (error)
          {
            throw UsageError("cannot read the folder " + input);
          }
          for (; it != fs::recursive_directory_iterator(); it.increment(error))
          {
            if (error)
            {
              break;
            }
            std::error_code ignored;
            if (it->is_directory(ignored) && fs::equivalent(it->path(), output, ignored))
            {
              it.disable_recursion_pending();   // the output folder
            }
            else if (it->is_regular_file(error))
            {
              found.push_back(it->path().string());
            }
          }
          std::sort(found.begin(), found.end());
          files.insert(files.end(), found.begin(), found.end());
        }
        else
        {
          files.push_back(input);
        }
      }
      return files;
    }
  }
}
