// Work on deeply nested DICOM on a thread with a large stack.
//
// DCMTK's parser, its writer and every walk over a data set recurse once per
// nesting level of sequences (PS3.5 7.5). Orthanc's HTTP threads have a
// 100 KB stack (civetweb), which a file nested about 50 deep exhausts. The
// engine's entry points (ParseDicom, WriteDicom, the de-identification of one
// instance) run their work here, so no caller thread's stack size matters.
#pragma once

#include <cstddef>
#include <functional>

namespace Deid
{
  namespace LargeStack
  {
    // The stack of the dedicated thread (reserved virtually; only the pages
    // actually used are committed).
    constexpr size_t STACK_SIZE = 32 * 1024 * 1024;

    // Runs "work" on a thread with a STACK_SIZE stack and waits for it; an
    // exception thrown by "work" is rethrown in the caller. Runs "work"
    // directly when the current thread already is such a thread.
    // Throws DeidError(Internal) if no thread can be started.
    void Run(const std::function<void()>& work);

    // True on a thread started by Run().
    bool IsCurrent();

    // Bytes of the large stack used by the current thread so far (0 outside
    // Run()): the stack guard of the parser compares it with its budget.
    size_t GetUsedBytes();
  }
}
