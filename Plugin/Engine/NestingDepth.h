// The maximum nesting depth of sequences (PS3.5 7.5) that the engine reads.
//
// DCMTK reads sequences recursively, and so do the de-identifier, the writer,
// the re-identifier and Orthanc's own parser of what the plugin stores. The
// engine therefore refuses any input nested deeper than a maximum (default
// 32; Orthanc 1.10.1's HTTP threads crash at about 46 on their own), in two
// steps that never let DCMTK recurse without bound:
//  - the read runs on a large stack (LargeStack.h) through a guarded stream
//    that stops DCMTK, as at the end of the input, once the stack holds more
//    than GUARD_BYTES: a file nested 1,000,000 deep is cut short safely;
//  - right after the read, still on the large stack, the depth of the tree
//    (counted without recursion) is compared with the maximum, and a deeper
//    tree is destroyed there. Values encoded as UN that hold an implicit VR
//    sequence (PS3.5 6.2.2), which the de-identifier parses later, count too.
// Every tree the engine hands out is therefore at most the maximum deep.
#pragma once

#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcobject.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <cstddef>
#include <string>

namespace Deid
{
  constexpr unsigned int DEFAULT_MAXIMUM_NESTING_DEPTH = 32;
  constexpr unsigned int HIGHEST_MAXIMUM_NESTING_DEPTH = 1000;   // what the large stack allows

  // The global maximum (set once at start-up). Throws DeidError(BadOption)
  // outside 1..HIGHEST_MAXIMUM_NESTING_DEPTH.
  void SetMaximumNestingDepth(unsigned int depth);
  unsigned int GetMaximumNestingDepth();

  // The number of nested sequences on the deepest path: 0 without any
  // sequence, 1 for a top-level sequence whose items hold no sequence.
  // Counted without recursion; pixel sequences (encapsulated fragments) do
  // not count.
  unsigned int GetNestingDepth(DcmObject& object);

  // A memory input stream that ends the input once the large stack holds
  // more than GUARD_BYTES (then Exhausted() is true). Only guards on a
  // LargeStack thread.
  class DepthGuardedInputStream : public DcmInputBufferStream
  {
  private:
    bool exhausted_ = false;
    bool Check();

  public:
    // About 3,000 levels of DCMTK's parser; leaves most of the stack for
    // unwinding and destroying what was read.
    static constexpr size_t GUARD_BYTES = 8 * 1024 * 1024;

    DepthGuardedInputStream(const void* data, size_t size);
    ~DepthGuardedInputStream() override;

    bool Exhausted() const { return exhausted_; }

    OFBool good() const override;
    OFCondition status() const override;
    OFBool eos() override;
    offile_off_t avail() override;
    offile_off_t read(void* buf, offile_off_t buflen) override;
    offile_off_t skip(offile_off_t skiplen) override;
  };

  // Throws DeidError(BadInput) "<what>: sequences nested more than <max>
  // levels deep ..." if "object" is nested deeper than maxDepth, counting the
  // sequences encoded in UN values too (each parsed through the guard). Call
  // on a LargeStack thread.
  void CheckNestingDepth(DcmObject& object, unsigned int maxDepth, const std::string& what);

  // Reads "object" (a data set, an item) from memory on a large stack through
  // the guard, then checks its depth. Returns DCMTK's status of the read;
  // throws DeidError(BadInput) if the input is nested deeper than maxDepth,
  // after clearing "object" on the large stack.
  OFCondition ReadWithDepthLimit(DcmObject& object, const void* data, size_t size,
                                 E_TransferSyntax xfer, unsigned int maxDepth, const std::string& what);
}
