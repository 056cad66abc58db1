#include "LargeStack.h"
#include "DeidError.h"

#include <pthread.h>

#include <cstdint>
#include <cstring>
#include <exception>

namespace Deid
{
  namespace LargeStack
  {
    namespace
    {
      // The address of a local variable at the bottom of the large stack.
      thread_local uintptr_t stackStart_ = 0;

      struct Task
      {
        const std::function<void()>* work;
        std::exception_ptr error;
      };

      void* Entry(void* argument)
      {
        Task* task = static_cast<Task*>(argument);
        volatile char marker = 0;
        stackStart_ = reinterpret_cast<uintptr_t>(&marker);
        try
        {
          (*task->work)();
        }
        catch (...)
        {
          task->error = std::current_exception();
        }
        stackStart_ = 0;
        return nullptr;
      }
    }


    bool IsCurrent()
    {
      return stackStart_ != 0;
    }


    size_t GetUsedBytes()
    {
      if (stackStart_ == 0)
      {
        return 0;
      }
      volatile char marker = 0;
      const uintptr_t here = reinterpret_cast<uintptr_t>(&marker);
      // The stack grows downwards on every platform Orthanc runs on.
      return here < stackStart_ ? static_cast<size_t>(stackStart_ - here) : 0;
    }


    void Run(const std::function<void()>& work)
    {
      if (IsCurrent())
      {
        work();
        return;
      }

      Task task;
      task.work = &work;

      pthread_attr_t attributes;
      if (pthread_attr_init(&attributes) != 0)
      {
        throw DeidError(ErrorCode::Internal, "Cannot prepare the thread of the DICOM parser");
      }
      int error = pthread_attr_setstacksize(&attributes, STACK_SIZE);
      pthread_t thread;
      if (error == 0)
      {
        error = pthread_create(&thread, &attributes, Entry, &task);
      }
      pthread_attr_destroy(&attributes);
      if (error != 0)
      {
        throw DeidError(ErrorCode::Internal, std::string("Cannot start the thread of the DICOM parser: ") +
                        strerror(error));
      }

      pthread_join(thread, nullptr);
      if (task.error)
      {
        std::rethrow_exception(task.error);
      }
    }
  }
}
