// orthanc-deidentify: the command-line front end of the plugin's engine
// (PS3.15 Annex E), without Orthanc. See README, "Command-line front end".
#include "CliServices.h"
#include "CommandLine.h"
#include "FileProcessors.h"
#include "InputFiles.h"
#include "ParallelRunner.h"
#include "Summary.h"

#include "Engine/DeidError.h"

#include <dcmtk/oflog/oflog.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace Deid;
using namespace Deid::Cli;

namespace
{
  void Report(const Summary& summary, const CommandLine& c)
  {
    std::fputs(summary.Describe(c.command).c_str(), stderr);
    if (!c.summaryJson.empty())
    {
      std::ofstream out(c.summaryJson, std::ios::binary | std::ios::trunc);
      out << summary.ToJson();
      if (!out.flush())
      {
        std::fprintf(stderr, "orthanc-deidentify: cannot write the summary to %s\n", c.summaryJson.c_str());
      }
    }
  }

  void CreateOutputFolder(const std::string& output)
  {
    std::error_code error;
    std::filesystem::create_directories(output, error);
    if (error || !std::filesystem::is_directory(output))
    {
      throw UsageError("cannot create the output folder " + output);
    }
  }

  // Every usage and configuration error is found before anything is written.
  int Run(const CommandLine& c)
  {
    const Json::Value request = ParseRequest(c.request, c.command);
    const std::vector<std::string> files = ListInputFiles(c.inputs, c.output);

    CliServices services(c.config);
    std::fprintf(stderr, "orthanc-deidentify: %s\n", services.GetDescription().c_str());

    OperationDescription operation;
    std::unique_ptr<OperationProviders> providers;
    std::shared_ptr<const RecipientPrivateKey> key;
    if (c.command == "deidentify")
    {
      operation = services.DescribeDeidentification(request);
      // One set of providers for the whole run, shared by the workers (as
      // one plugin job shares them): the same UIDs within and across runs.
      providers = ProviderFactory::Create(operation);
    }
    else
    {
      key = services.GetReidentificationKey(request, c.keyFile, c.keyPasswordFile);
      operation = services.DescribeReidentification(request);
    }
    CreateOutputFolder(c.output);

    const bool progress = c.progress == ProgressMode::On ||
      (c.progress == ProgressMode::Auto && isatty(fileno(stderr)));
    StopOnSignals();
    Summary summary;
    if (providers)
    {
      DeidentificationContext& context = providers->GetContext();
      RunInParallel(files, c.jobs, progress,
                    [&](const std::string& path, uint64_t& bytes)
                    { DeidentifyFile(path, bytes, c.output, operation, context); },
                    summary);
    }
    else
    {
      RunInParallel(files, c.jobs, progress,
                    [&](const std::string& path, uint64_t& bytes)
                    { ReidentifyFile(path, bytes, c.output, *key); },
                    summary);
    }

    summary.Finish();
    services.Audit(operation, summary.GetSucceeded() + summary.GetFailed(), summary.GetFailed());
    Report(summary, c);
    return summary.GetFailed() == 0 ? 0 : 1;
  }
}


int main(int argc, char* argv[])
{
  // DCMTK's own log lines (parser warnings) would interleave with the
  // summary; every failure is reported per file with its reason instead.
  OFLog::configure(OFLogger::FATAL_LOG_LEVEL);

  CommandLine c;
  try
  {
    c = ParseCommandLine(argc, argv);
    if (c.help)
    {
      std::fputs(GetUsage(), stdout);
      return 0;
    }
    return Run(c);
  }
  catch (const UsageError& e)
  {
    std::fprintf(stderr, "orthanc-deidentify: %s\n", e.what());
    if (c.command.empty() || c.inputs.empty() || c.output.empty())
    {
      std::fputs(GetUsage(), stderr);
    }
    return 2;
  }
  catch (const DeidError& e)
  {
    std::fprintf(stderr, "orthanc-deidentify: %s\n", e.what());
    return 2;
  }
  catch (const std::exception& e)
  {
    std::fprintf(stderr, "orthanc-deidentify: %s\n", e.what());
    return 2;
  }
}
