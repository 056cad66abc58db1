// Crafting malformed DICOM byte strings for the bad-input tests (issue 9,
// item 7). Malformed files cannot be made by DCMTK, which only writes valid
// encodings: these helpers put the bytes together by hand (PS3.5 7.1.2,
// PS3.10 7.1), in the tests only.
#pragma once

#include "Engine/DeidError.h"
#include "Engine/DefaultProviders.h"
#include "Engine/Deidentifier.h"
#include "Engine/DicomFile.h"
#include "Engine/Profile.h"

#include <cstdint>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace Deid
{
  namespace BadInput
  {
    const char* const TEST_FILES = "/usr/lib/python3/dist-packages/pydicom/data/test_files";

    inline std::string ReadTestFile(const std::string& name)
    {
      std::ifstream input(std::string(TEST_FILES) + "/" + name, std::ios::binary);
      return std::string((std::istreambuf_iterator<char>(input)), std::istreambuf_iterator<char>());
    }

    inline void PutUint16(std::string& out, uint16_t v)
    {
      out.push_back(static_cast<char>(v & 0xff));
      out.push_back(static_cast<char>(v >> 8));
    }

    inline void PutUint32(std::string& out, uint32_t v)
    {
      for (int i = 0; i < 4; i++)
      {
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
      }
    }

    inline bool HasLongLength(const std::string& vr)
    {
      return vr == "OB" || vr == "OW" || vr == "OF" || vr == "OD" || vr == "OL" || vr == "OV" ||
             vr == "SQ" || vr == "UN" || vr == "UT" || vr == "UC" || vr == "UR";
    }

    // One element in Explicit VR Little Endian; "length" overrides the
    // length field (the value bytes are written as given, unpadded).
    inline std::string Explicit(uint16_t group, uint16_t element, const std::string& vr,
                                const std::string& value, int64_t length = -1)
    {
      std::string out;
      PutUint16(out, group);
      PutUint16(out, element);
      out += vr;
      const uint32_t l = (length >= 0 ? static_cast<uint32_t>(length) : static_cast<uint32_t>(value.size()));
      if (HasLongLength(vr))
      {
        PutUint16(out, 0);
        PutUint32(out, l);
      }
      else
      {
        PutUint16(out, static_cast<uint16_t>(l));
      }
      return out + value;
    }

    // One element in Implicit VR Little Endian.
    inline std::string Implicit(uint16_t group, uint16_t element, const std::string& value, int64_t length = -1)
    {
      std::string out;
      PutUint16(out, group);
      PutUint16(out, element);
      PutUint32(out, length >= 0 ? static_cast<uint32_t>(length) : static_cast<uint32_t>(value.size()));
      return out + value;
    }

    // An item (FFFE,E000) or a delimiter, with the given length field.
    inline std::string ItemTag(uint16_t element, uint32_t length)
    {
      std::string out;
      PutUint16(out, 0xfffe);
      PutUint16(out, element);
      PutUint32(out, length);
      return out;
    }

    inline std::string EvenUid(std::string uid)
    {
      if (uid.size() % 2)
      {
        uid.push_back('\0');
      }
      return uid;
    }

    // Preamble, "DICM" and the file meta group (explicit VR little endian)
    // for the given transfer syntax; "groupLength" overrides (0002,0000).
    inline std::string Part10Header(const std::string& transferSyntax, int64_t groupLength = -1)
    {
      std::string group;
      group += Explicit(0x0002, 0x0001, "OB", std::string("\0\1", 2));
      group += Explicit(0x0002, 0x0002, "UI", EvenUid("1.2.840.10008.5.1.4.1.1.7"));
      group += Explicit(0x0002, 0x0003, "UI", EvenUid("1.2.3.4.5.6.7.100"));
      group += Explicit(0x0002, 0x0010, "UI", EvenUid(transferSyntax));
      std::string out(128, '\0');
      out += "DICM";
      std::string length;
      PutUint32(length, groupLength >= 0 ? static_cast<uint32_t>(groupLength) : static_cast<uint32_t>(group.size()));
      out += Explicit(0x0002, 0x0000, "UL", length);
      return out + group;
    }

    const char* const PATIENT_NAME = "Doe^Johnathan";        // identifying values of the
    const char* const PATIENT_ID = "PID-98765X";             // crafted instances: never in
    const char* const STUDY_UID = "1.2.3.4.5.6.7.1";          // an output nor an error
    const char* const SOP_UID = "1.2.3.4.5.6.7.100";

    // The elements of a small Secondary Capture instance, in Explicit VR LE,
    // in tag order, before and after the Patient Name.
    inline std::string ExplicitDatasetBefore()
    {
      return Explicit(0x0008, 0x0016, "UI", EvenUid("1.2.840.10008.5.1.4.1.1.7")) +
             Explicit(0x0008, 0x0018, "UI", EvenUid(SOP_UID)) +
             Explicit(0x0008, 0x0060, "CS", "OT");
    }

    inline std::string ExplicitDatasetAfter()
    {
      return Explicit(0x0010, 0x0020, "LO", PATIENT_ID) +
             Explicit(0x0020, 0x000d, "UI", EvenUid(STUDY_UID)) +
             Explicit(0x0020, 0x000e, "UI", EvenUid("1.2.3.4.5.6.7.2"));
    }

    inline std::string ExplicitDataset()
    {
      return ExplicitDatasetBefore() + Explicit(0x0010, 0x0010, "PN", std::string(PATIENT_NAME) + " ") +
             ExplicitDatasetAfter();
    }

    // What the engine made of one input.
    struct Result
    {
      bool ok = false;
      std::string error;    // the DeidError message when !ok
      std::string output;   // the de-identified file when ok
      bool outputParses = false;
    };

    // The path of POST /tools/deidentify: parse, Basic Profile, write, and
    // whether the output parses again. Any exception other than DeidError escapes
    // (and fails the test).
    inline Result Deidentify(const std::string& input, const OptionSet& options = OptionSet())
    {
      static std::shared_ptr<const ProfileTables> tables = ProfileTables::LoadEmbedded();
      Result result;
      try
      {
        Profile profile(tables, options);
        std::unique_ptr<DcmFileFormat> file = ParseDicom(input.data(), input.size());
        RandomUidProvider uids;
        RandomPseudonymProvider pseudonyms;
        FixedDateOffsetProvider offsets(-10);
        ConservativeTextCleaner cleaner;
        DeidentificationContext context;
        context.uids = &uids;
        context.pseudonyms = &pseudonyms;
        context.dateOffsets = &offsets;
        context.textCleaner = &cleaner;
        Deidentifier(profile).Apply(*file, context);
        result.output = WriteDicom(*file);
        result.ok = true;
      }
      catch (const DeidError& e)
      {
        result.error = e.what();
      }
      if (result.ok)
      {
        try
        {
          ParseDicom(result.output.data(), result.output.size());
          result.outputParses = true;
        }
        catch (const DeidError&)
        {
        }
      }
      return result;
    }

    inline bool Contains(const std::string& haystack, const std::string& needle)
    {
      return !needle.empty() && haystack.find(needle) != std::string::npos;
    }
  }
}
