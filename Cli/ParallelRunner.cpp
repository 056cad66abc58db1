#include "ParallelRunner.h"

#include "Engine/LargeStack.h"

#include <atomic>
#include <csignal>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <new>
#include <thread>

namespace Deid
{
  namespace Cli
  {
    namespace
    {
      std::mutex stderrMutex_;
      volatile std::sig_atomic_t interrupted_ = 0;

      extern "C" void OnSignal(int)
      {
        interrupted_ = 1;
      }
      bool progressShown_ = false;   // a bar is on the current line of stderr

      void DrawProgress(size_t done, size_t total, double seconds, bool last)
      {
        const int width = 30;
        const int filled = total == 0 ? width : static_cast<int>(width * done / total);
        std::string bar(static_cast<size_t>(filled), '#');
        bar.resize(width, '-');
        std::lock_guard<std::mutex> lock(stderrMutex_);
        std::fprintf(stderr, "\r[%s] %zu/%zu  %.1f instances/s   %s", bar.c_str(), done, total,
                     seconds > 0 ? done / seconds : 0.0, last ? "\n" : "");
        std::fflush(stderr);
      }

      void ProcessOne(const std::string& path, const FileTask& task, Summary& summary)
      {
        uint64_t bytes = 0;
        std::string reason;
        try
        {
          task(path, bytes);
          summary.AddSuccess(bytes);
          return;
        }
        catch (const FileFailure& e)
        {
          reason = e.what();
        }
        catch (const std::bad_alloc&)
        {
          reason = "out of memory";
        }
        catch (const std::exception& e)
        {
          reason = std::string("internal error: ") + e.what();
        }
        catch (...)
        {
          reason = "internal error";
        }
        summary.AddFailure(bytes, reason);
        std::lock_guard<std::mutex> lock(stderrMutex_);
        // The user owns the paths: naming the failed file helps, the reason holds no value.
        std::fprintf(stderr, "%sfailed: %s: %s\n", progressShown_ ? "\r" : "", path.c_str(), reason.c_str());
      }
    }


    void StopOnSignals()
    {
      std::signal(SIGINT, OnSignal);
      std::signal(SIGTERM, OnSignal);
    }


    void RunInParallel(const std::vector<std::string>& files, unsigned int jobs, bool progress,
                       const FileTask& task, Summary& summary)
    {
      std::atomic<size_t> next(0);
      auto work = [&]()
      {
        for (;;)
        {
          if (interrupted_)
          {
            return;
          }
          const size_t index = next.fetch_add(1);
          if (index >= files.size())
          {
            return;
          }
          ProcessOne(files[index], task, summary);
        }
      };

      std::mutex mutex;
      std::condition_variable finished;
      bool done = false;
      std::thread progressThread;
      progressShown_ = progress;
      if (progress)
      {
        progressThread = std::thread([&]()
        {
          std::unique_lock<std::mutex> lock(mutex);
          while (!finished.wait_for(lock, std::chrono::milliseconds(200), [&]() { return done; }))
          {
            DrawProgress(summary.GetDone(), files.size(), summary.GetSeconds(), false);
          }
        });
      }

      std::vector<std::thread> workers;
      const size_t count = std::max<size_t>(1, std::min<size_t>(jobs, files.size()));
      for (size_t i = 0; i < count; i++)
      {
        // Each worker is a large-stack thread: the engine's recursive work
        // runs on it directly (LargeStack::Run does not start another thread).
        workers.emplace_back([&]() { LargeStack::Run(work); });
      }
      for (std::thread& t : workers)
      {
        t.join();
      }
      if (interrupted_)
      {
        summary.AddNotProcessed(files.size() - std::min(files.size(), next.load()), "not processed: interrupted");
      }

      if (progress)
      {
        {
          std::lock_guard<std::mutex> lock(mutex);
          done = true;
        }
        finished.notify_all();
        progressThread.join();
        DrawProgress(summary.GetDone(), files.size(), summary.GetSeconds(), true);
      }
    }
  }
}
