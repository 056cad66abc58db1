// Deeply nested sequences: the engine's parse entry refuses nesting beyond
// the maximum depth and never overflows the caller's stack, even on a thread
// with the 100 KB stack of Orthanc's HTTP threads (civetweb).
#include "DeidentifierTestSupport.h"

#include "Engine/DeidError.h"
#include "Engine/LargeStack.h"
#include "Engine/NestingDepth.h"

#include <dcmtk/dcmdata/dcvrobow.h>

#include <gtest/gtest.h>

#include <pthread.h>

#include <exception>
#include <functional>

using namespace Deid;
using namespace Deid::Testing;

namespace
{
  const size_t HTTP_THREAD_STACK = 100 * 1024;   // civetweb's thread stack in Orthanc 1.10.1

  // Runs "work" on a thread with the stack of an Orthanc HTTP thread.
  void RunOnSmallStack(const std::function<void()>& work)
  {
    struct Task
    {
      const std::function<void()>* work;
      std::exception_ptr error;
    } task{ &work, nullptr };

    pthread_attr_t attributes;
    ASSERT_EQ(0, pthread_attr_init(&attributes));
    ASSERT_EQ(0, pthread_attr_setstacksize(&attributes, HTTP_THREAD_STACK));
    pthread_t thread;
    ASSERT_EQ(0, pthread_create(&thread, &attributes, [](void* argument) -> void*
    {
      Task* t = static_cast<Task*>(argument);
      try
      {
        (*t->work)();
      }
      catch (...)
      {
        t->error = std::current_exception();
      }
      return nullptr;
    }, &task));
    pthread_attr_destroy(&attributes);
    pthread_join(thread, nullptr);
    if (task.error)
    {
      std::rethrow_exception(task.error);
    }
  }

  void Append16(std::string& s, Uint16 v)
  {
    s.push_back(static_cast<char>(v & 0xFF));
    s.push_back(static_cast<char>(v >> 8));
  }

  void Append32(std::string& s, Uint32 v)
  {
    Append16(s, static_cast<Uint16>(v & 0xFFFF));
    Append16(s, static_cast<Uint16>(v >> 16));
  }

  void Tag(std::string& s, Uint16 group, Uint16 element)
  {
    Append16(s, group);
    Append16(s, element);
  }

  // A Content Sequence nested "depth" deep, one item per level, undefined
  // lengths; explicit VR unless "implicit".
  std::string NestedContent(unsigned int depth, bool implicit = false)
  {
    std::string s;
    for (unsigned int i = 0; i < depth; i++)
    {
      Tag(s, 0x0040, 0xA730);
      if (!implicit)
      {
        s += std::string("SQ\0\0", 4);
      }
      Append32(s, 0xFFFFFFFF);
      Tag(s, 0xFFFE, 0xE000);
      Append32(s, 0xFFFFFFFF);
      Tag(s, 0x0040, 0xA040);   // Value Type
      if (!implicit)
      {
        s += "CS";
        Append16(s, 4);
      }
      else
      {
        Append32(s, 4);
      }
      s += "TEXT";
    }
    for (unsigned int i = 0; i < depth; i++)
    {
      Tag(s, 0xFFFE, 0xE00D);
      Append32(s, 0);
      Tag(s, 0xFFFE, 0xE0DD);
      Append32(s, 0);
    }
    return s;
  }

  // A Part 10 file whose last attribute is the nested Content Sequence.
  std::string DeepFile(unsigned int depth)
  {
    return WriteDicom(*MakeFile()) + NestedContent(depth);
  }

  std::string ParseFailure(const std::string& bytes)
  {
    try
    {
      ParseDicom(bytes.data(), bytes.size());
    }
    catch (const DeidError& e)
    {
      EXPECT_EQ(ErrorCode::BadInput, e.GetCode());
      return e.what();
    }
    return "";
  }
}


TEST(NestingDepth, DefaultMaximum)
{
  EXPECT_EQ(32u, GetMaximumNestingDepth());
  EXPECT_THROW(SetMaximumNestingDepth(0), DeidError);
  EXPECT_THROW(SetMaximumNestingDepth(HIGHEST_MAXIMUM_NESTING_DEPTH + 1), DeidError);
}


TEST(NestingDepth, CountsSequencesWithoutRecursion)
{
  auto flat = MakeFile();
  EXPECT_EQ(0u, GetNestingDepth(*flat));

  const std::string bytes = DeepFile(30);
  auto file = ParseDicom(bytes.data(), bytes.size());
  EXPECT_EQ(30u, GetNestingDepth(*file));
  EXPECT_EQ(30u, GetNestingDepth(*file->getDataset()));
}


TEST(NestingDepth, ParseOnHttpThreadStackAtEveryDepth)
{
  // Within the maximum: parsed, written and destroyed on a 100 KB stack.
  for (unsigned int depth : { 30u, 32u })
  {
    SCOPED_TRACE(depth);
    RunOnSmallStack([depth]()
    {
      const std::string bytes = DeepFile(depth);
      auto file = ParseDicom(bytes.data(), bytes.size());
      EXPECT_EQ(depth, GetNestingDepth(*file));
      const std::string written = WriteDicom(*file);
      auto again = ParseDicom(written.data(), written.size());
      EXPECT_EQ(depth, GetNestingDepth(*again));
    });
  }

  // Beyond it: a clear error, never a crash (the deepest ones stop DCMTK
  // through the stack guard, the others after the read).
  for (unsigned int depth : { 33u, 50u, 200u, 2000u, 20000u, 200000u })
  {
    SCOPED_TRACE(depth);
    RunOnSmallStack([depth]()
    {
      const std::string message = ParseFailure(DeepFile(depth));
      EXPECT_NE(std::string::npos, message.find("nested more than 32 levels")) << message;
    });
  }
}


TEST(NestingDepth, TruncatedDeepInputIsBadInput)
{
  const std::string bytes = DeepFile(20000);
  RunOnSmallStack([&]()
  {
    EXPECT_FALSE(ParseFailure(bytes.substr(0, bytes.size() / 2)).empty());
    EXPECT_FALSE(ParseFailure(bytes.substr(0, bytes.size() - 3)).empty());
  });
}


TEST(NestingDepth, ConfiguredMaximum)
{
  SetMaximumNestingDepth(5);
  EXPECT_NO_THROW(ParseDicom(DeepFile(5).data(), DeepFile(5).size()));
  EXPECT_NE(std::string::npos, ParseFailure(DeepFile(6)).find("more than 5 levels"));
  const std::string deep = DeepFile(10);
  EXPECT_NO_THROW(ParseDicom(deep.data(), deep.size(), 10));   // an explicit maximum
  SetMaximumNestingDepth(DEFAULT_MAXIMUM_NESTING_DEPTH);
}


TEST(NestingDepth, SequencesEncodedAsUnCount)
{
  // PS3.5 6.2.2: a sequence may be encoded as UN holding implicit VR items;
  // the de-identifier parses such values later, so they count.
  for (unsigned int depth : { 10u, 40u, 20000u })
  {
    SCOPED_TRACE(depth);
    std::string value = NestedContent(depth, true);
    value = value.substr(8);   // the items of the outer sequence: drop its tag and length
    value.resize(value.size() - 8);   // and its sequence delimiter
    auto file = MakeFile();
    DcmOtherByteOtherWord* un = new DcmOtherByteOtherWord(DcmTag(DCM_ContentSequence, EVR_UN));
    ASSERT_TRUE(un->putUint8Array(reinterpret_cast<const Uint8*>(value.data()), value.size()).good());
    ASSERT_TRUE(file->getDataset()->insert(un, OFTrue).good());
    const std::string bytes = WriteDicom(*file);

    RunOnSmallStack([&]()
    {
      if (depth <= 32)
      {
        auto parsed = ParseDicom(bytes.data(), bytes.size());
        EXPECT_TRUE(parsed->getDataset()->tagExists(DCM_ContentSequence));
      }
      else
      {
        EXPECT_NE(std::string::npos, ParseFailure(bytes).find("nested more than 32 levels"));
      }
    });
  }
}


TEST(NestingDepth, LargeStackRethrowsAndNests)
{
  EXPECT_FALSE(LargeStack::IsCurrent());
  bool inner = false;
  LargeStack::Run([&]()
  {
    EXPECT_TRUE(LargeStack::IsCurrent());
    LargeStack::Run([&]() { inner = LargeStack::IsCurrent(); });   // runs in place
  });
  EXPECT_TRUE(inner);
  EXPECT_THROW(LargeStack::Run([]() { throw DeidError(ErrorCode::BadInput, "x"); }), DeidError);
}
