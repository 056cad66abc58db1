#include "CommandLine.h"

#include <fstream>
#include <iterator>
#include <thread>

namespace Deid
{
  namespace Cli
  {
    const char* GetUsage()
    {
      return
        "Usage:\n"
        "  orthanc-deidentify deidentify [OPTIONS] INPUT... --output DIR\n"
        "  orthanc-deidentify reidentify [OPTIONS] INPUT... --output DIR\n"
        "\n"
        "  INPUT                      DICOM files or folders (recursed)\n"
        "  -o, --output DIR           written as DIR/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm\n"
        "  -c, --config FILE          an Orthanc configuration file: its \"Deidentification\" section\n"
        "                             (profiles, projects, recipients, key store) as the plugin reads it;\n"
        "                             without it: the Basic Profile and keys kept in memory for this run only\n"
        "  -r, --request JSON|@FILE   the body of POST /instances/{id}/deidentify (Profile, Options,\n"
        "                             Project, Recipients, Cipher); for reidentify: PrivateKey, Password\n"
        "  -j, --jobs N               parallel workers (default: the number of cores)\n"
        "  -k, --key FILE             reidentify: the PEM private key of a recipient\n"
        "  --key-password-file FILE   reidentify: the password of an encrypted private key\n"
        "  --summary-json FILE        write the summary as JSON\n"
        "  --progress, --no-progress  progress bar on stderr (default: only if stderr is a terminal)\n"
        "  -h, --help                 this help\n"
        "\n"
        "Exit code: 0 every input succeeded, 1 one or more failed, 2 usage or configuration error.\n";
    }

    std::string ReadWholeFile(const std::string& path, const std::string& what)
    {
      std::ifstream in(path, std::ios::binary);
      if (!in)
      {
        throw UsageError("cannot read " + what + " " + path);
      }
      return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }

    static unsigned int ParseJobs(const std::string& text)
    {
      if (text.empty() || text.size() > 4 || text.find_first_not_of("0123456789") != std::string::npos)
      {
        throw UsageError("--jobs must be a number between 1 and 1024");
      }
      const unsigned long n = std::stoul(text);
      if (n < 1 || n > 1024)
      {
        throw UsageError("--jobs must be a number between 1 and 1024");
      }
      return static_cast<unsigned int>(n);
    }

    CommandLine ParseCommandLine(int argc, const char* const argv[])
    {
      CommandLine c;
      bool onlyInputs = false;

      for (int i = 1; i < argc; i++)
      {
        const std::string a = argv[i];
        std::string name = a;
        std::string value;
        bool hasInlineValue = false;
        if (!onlyInputs && a.size() > 2 && a.compare(0, 2, "--") == 0 && a.find('=') != std::string::npos)
        {
          name = a.substr(0, a.find('='));
          value = a.substr(a.find('=') + 1);
          hasInlineValue = true;
        }

        auto next = [&]() -> std::string
        {
          if (hasInlineValue)
          {
            return value;
          }
          if (i + 1 >= argc)
          {
            throw UsageError("option " + name + " needs a value");
          }
          return argv[++i];
        };

        if (onlyInputs || a.empty() || a[0] != '-' || a == "-")
        {
          if (c.command.empty())
          {
            if (a != "deidentify" && a != "reidentify")
            {
              throw UsageError("unknown command \"" + a + "\" (deidentify or reidentify)");
            }
            c.command = a;
          }
          else
          {
            c.inputs.push_back(a);
          }
        }
        else if (a == "--")
        {
          onlyInputs = true;
        }
        else if (name == "-h" || name == "--help")
        {
          c.help = true;
        }
        else if (name == "-o" || name == "--output")
        {
          c.output = next();
        }
        else if (name == "-c" || name == "--config")
        {
          c.config = next();
        }
        else if (name == "-r" || name == "--request")
        {
          const std::string v = next();
          c.request = (!v.empty() && v[0] == '@') ? ReadWholeFile(v.substr(1), "the request file") : v;
        }
        else if (name == "-j" || name == "--jobs")
        {
          c.jobs = ParseJobs(next());
        }
        else if (name == "-k" || name == "--key")
        {
          c.keyFile = next();
        }
        else if (name == "--key-password-file")
        {
          c.keyPasswordFile = next();
        }
        else if (name == "--summary-json")
        {
          c.summaryJson = next();
        }
        else if (name == "--progress" && !hasInlineValue)
        {
          c.progress = ProgressMode::On;
        }
        else if (name == "--no-progress" && !hasInlineValue)
        {
          c.progress = ProgressMode::Off;
        }
        else
        {
          throw UsageError("unknown option " + name);
        }
      }

      if (c.help)
      {
        return c;
      }
      if (c.command.empty())
      {
        throw UsageError("no command (deidentify or reidentify)");
      }
      if (c.inputs.empty())
      {
        throw UsageError("no INPUT file or folder");
      }
      if (c.output.empty())
      {
        throw UsageError("--output DIR is required");
      }
      if (c.command == "deidentify" && (!c.keyFile.empty() || !c.keyPasswordFile.empty()))
      {
        throw UsageError("--key and --key-password-file are options of reidentify");
      }
      if (c.jobs == 0)
      {
        c.jobs = std::max(1u, std::thread::hardware_concurrency());
      }
      return c;
    }
  }
}
