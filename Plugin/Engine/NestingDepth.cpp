#include "NestingDepth.h"
#include "DeidError.h"
#include "LargeStack.h"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcelem.h>
#include <dcmtk/dcmdata/dcerror.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <vector>

namespace Deid
{
  namespace
  {
    std::atomic<unsigned int> maximum_(DEFAULT_MAXIMUM_NESTING_DEPTH);

    struct Pending
    {
      DcmObject* object;
      unsigned int depth;   // sequences above "object"
    };

    // Visits every object of the tree without recursion.
    template <typename Visitor>
    void Visit(DcmObject& root, unsigned int rootDepth, Visitor visitor)
    {
      std::vector<Pending> pending;
      pending.push_back({ &root, rootDepth });
      while (!pending.empty())
      {
        Pending p = pending.back();
        pending.pop_back();
        DcmObject* object = p.object;
        if (object == nullptr)
        {
          continue;
        }

        switch (object->ident())
        {
          case EVR_SQ:
          case EVR_fileFormat:
          {
            // A sequence adds one level; the file (meta header, data set) none.
            const unsigned int depth = p.depth + (object->ident() == EVR_SQ ? 1 : 0);
            visitor(*object, depth);
            DcmSequenceOfItems* sequence = static_cast<DcmSequenceOfItems*>(object);
            // One pass over DCMTK's list (getItem(i) walks it from the start).
            for (DcmObject* o = sequence->nextInContainer(nullptr); o != nullptr; o = sequence->nextInContainer(o))
            {
              pending.push_back({ o, depth });
            }
            break;
          }

          case EVR_item:
          case EVR_dataset:
          case EVR_metainfo:
          case EVR_dirRecord:
          {
            DcmItem* item = static_cast<DcmItem*>(object);
            for (DcmObject* o = item->nextInContainer(nullptr); o != nullptr; o = item->nextInContainer(o))
            {
              pending.push_back({ o, p.depth });   // one pass, as above
            }
            break;
          }

          default:
            visitor(*object, p.depth);   // an element; pixel sequences hold fragments only
            break;
        }
      }
    }

    [[noreturn]] void ThrowTooDeep(const std::string& what, unsigned int maxDepth)
    {
      throw DeidError(ErrorCode::BadInput, what + ": sequences nested more than " + std::to_string(maxDepth) +
                      " levels deep (the maximum nesting depth)");
    }

    // A UN value that starts with an item tag (FFFE,E000) little endian.
    bool HoldsItems(DcmElement& element, Uint8*& bytes)
    {
      bytes = nullptr;
      return element.getLength() >= 8 && element.getUint8Array(bytes).good() && bytes != nullptr &&
        bytes[0] == 0xFE && bytes[1] == 0xFF && bytes[2] == 0x00 && bytes[3] == 0xE0;
    }

    // The value of a UN element read as an implicit VR little endian sequence,
    // as the de-identifier and re-identifier do (PS3.5 6.2.2); nullptr if it
    // is not one.
    std::unique_ptr<DcmDataset> ReadEncodedSequence(const Uint8* bytes, Uint32 length,
                                                    unsigned int maxDepth, const std::string& what)
    {
      std::vector<Uint8> buffer(8 + static_cast<size_t>(length));
      const DcmTagKey key = DCM_ContentSequence;   // any tag whose dictionary VR is SQ
      buffer[0] = static_cast<Uint8>(key.getGroup() & 0xFF);
      buffer[1] = static_cast<Uint8>(key.getGroup() >> 8);
      buffer[2] = static_cast<Uint8>(key.getElement() & 0xFF);
      buffer[3] = static_cast<Uint8>(key.getElement() >> 8);
      for (int i = 0; i < 4; i++)
      {
        buffer[4 + i] = static_cast<Uint8>((length >> (8 * i)) & 0xFF);
      }
      std::copy(bytes, bytes + length, buffer.begin() + 8);

      std::unique_ptr<DcmDataset> wrapper(new DcmDataset);
      DepthGuardedInputStream stream(buffer.data(), buffer.size());
      wrapper->transferInit();
      OFCondition status = wrapper->read(stream, EXS_LittleEndianImplicit, EGL_noChange, DCM_MaxReadLength);
      wrapper->transferEnd();
      if (stream.Exhausted())
      {
        ThrowTooDeep(what, maxDepth);
      }
      if (status.bad())
      {
        return nullptr;
      }
      return wrapper;
    }
  }


  void SetMaximumNestingDepth(unsigned int depth)
  {
    if (depth < 1 || depth > HIGHEST_MAXIMUM_NESTING_DEPTH)
    {
      throw DeidError(ErrorCode::BadOption, "The maximum nesting depth must be between 1 and " +
                      std::to_string(HIGHEST_MAXIMUM_NESTING_DEPTH));
    }
    maximum_ = depth;
  }


  unsigned int GetMaximumNestingDepth()
  {
    return maximum_;
  }


  unsigned int GetNestingDepth(DcmObject& object)
  {
    unsigned int deepest = 0;
    Visit(object, 0, [&](DcmObject&, unsigned int depth) { deepest = std::max(deepest, depth); });
    return deepest;
  }


  void CheckNestingDepth(DcmObject& object, unsigned int maxDepth, const std::string& what)
  {
    // Sequences encoded in UN values are read here (and kept until the end)
    // to count them and the UN values they hold in turn.
    std::vector<std::unique_ptr<DcmDataset>> encoded;
    std::vector<Pending> roots;
    roots.push_back({ &object, 0 });

    while (!roots.empty())
    {
      Pending root = roots.back();
      roots.pop_back();
      std::vector<Pending> unValues;
      Visit(*root.object, root.depth, [&](DcmObject& o, unsigned int depth)
      {
        if (depth > maxDepth)
        {
          ThrowTooDeep(what, maxDepth);
        }
        if (o.ident() == EVR_UN)
        {
          unValues.push_back({ &o, depth });
        }
      });

      for (const Pending& un : unValues)
      {
        Uint8* bytes = nullptr;
        DcmElement& element = static_cast<DcmElement&>(*un.object);
        if (HoldsItems(element, bytes))
        {
          std::unique_ptr<DcmDataset> sequence = ReadEncodedSequence(bytes, element.getLength(), maxDepth, what);
          if (sequence)
          {
            // The wrapper's sequence stands where the UN element is.
            roots.push_back({ sequence.get(), un.depth });
            encoded.push_back(std::move(sequence));
          }
        }
      }
    }
  }


  OFCondition ReadWithDepthLimit(DcmObject& object, const void* data, size_t size,
                                 E_TransferSyntax xfer, unsigned int maxDepth, const std::string& what)
  {
    OFCondition status = EC_Normal;
    LargeStack::Run([&]()
    {
      try
      {
        DepthGuardedInputStream stream(data, size);
        object.transferInit();
        status = object.read(stream, xfer, EGL_noChange, DCM_MaxReadLength);
        object.transferEnd();
        if (stream.Exhausted())
        {
          ThrowTooDeep(what, maxDepth);
        }
        if (status.good())
        {
          CheckNestingDepth(object, maxDepth, what);
        }
      }
      catch (...)
      {
        object.clear();   // destroys the deep tree here, on the large stack
        throw;
      }
    });
    return status;
  }


  DepthGuardedInputStream::DepthGuardedInputStream(const void* data, size_t size)
  {
    setBuffer(data, static_cast<offile_off_t>(size));
    setEos();   // the whole input is there: anything missing is truncation
  }

  DepthGuardedInputStream::~DepthGuardedInputStream()
  {
    releaseBuffer();
  }

  bool DepthGuardedInputStream::Check()
  {
    if (!exhausted_ && LargeStack::GetUsedBytes() > GUARD_BYTES)
    {
      exhausted_ = true;
    }
    return !exhausted_;
  }

  OFBool DepthGuardedInputStream::good() const
  {
    return !exhausted_ && DcmInputBufferStream::good();
  }

  OFCondition DepthGuardedInputStream::status() const
  {
    return exhausted_ ? EC_InvalidStream : DcmInputBufferStream::status();
  }

  OFBool DepthGuardedInputStream::eos()
  {
    return Check() ? DcmInputBufferStream::eos() : OFTrue;
  }

  offile_off_t DepthGuardedInputStream::avail()
  {
    return Check() ? DcmInputBufferStream::avail() : 0;
  }

  offile_off_t DepthGuardedInputStream::read(void* buf, offile_off_t buflen)
  {
    return Check() ? DcmInputBufferStream::read(buf, buflen) : 0;
  }

  offile_off_t DepthGuardedInputStream::skip(offile_off_t skiplen)
  {
    return Check() ? DcmInputBufferStream::skip(skiplen) : 0;
  }
}
