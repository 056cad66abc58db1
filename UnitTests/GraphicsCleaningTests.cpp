// Clean Graphics Option (PS3.15 E.3.3): text of annotations, overlays and
// curves cleaned, non-text graphics kept, an overlay holding text removed with
// its whole Overlay Plane module. With the ConservativeTextCleaner (cleans
// nothing) and with a cleaner that removes the instance's identifying values
// (as the real one does), so that the tests stay meaningful with both.

#include "DeidentifierTestSupport.h"
#include "Engine/DicomFile.h"
#include "Engine/TextDetection.h"

#include <gtest/gtest.h>

#ifdef DEID_TEST_HAVE_FREETYPE
#include <ft2build.h>
#include FT_FREETYPE_H
#endif

#include <algorithm>
#include <cctype>

using namespace Deid;
using namespace Deid::Testing;

namespace
{
  const char* FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

  // Removes the words of the instance's identifying values (case-insensitive),
  // keeps the others: what the real cleaner does to "Doe John lesion".
  class IdentifyingWordsCleaner : public ITextCleaner
  {
  public:
    std::vector<Option> options;
    size_t identifyingSeen = 0;

    bool CleanText(const CleaningContext& context, std::string& value) override
    {
      options.push_back(context.chosenBy);
      std::vector<std::string> banned;
      if (context.identifying != nullptr)
      {
        identifyingSeen = context.identifying->size();
        for (const IdentifyingValue& v : *context.identifying)
        {
          for (const std::string& w : Words(v.value))
          {
            banned.push_back(w);
          }
        }
      }
      std::string result;
      for (const std::string& w : Words(value))
      {
        if (std::find(banned.begin(), banned.end(), w) == banned.end())
        {
          result += (result.empty() ? "" : " ") + w;
        }
        else if (context.removedCategories != nullptr)
        {
          context.removedCategories->push_back("identifying value");
        }
      }
      value = result;
      return true;
    }

    bool CleanSequence(const CleaningContext&, DcmItem&) override
    {
      return false;
    }

  private:
    static std::vector<std::string> Words(const std::string& text)
    {
      std::vector<std::string> words;
      std::string current;
      for (char c : text + " ")
      {
        if (std::isalnum(static_cast<unsigned char>(c)))
        {
          current.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        }
        else if (!current.empty())
        {
          words.push_back(current);
          current.clear();
        }
      }
      return words;
    }
  };

  DeidentificationResult CleanGraphicsRun(DcmFileFormat& file, Providers& p, ITextCleaner* cleaner = nullptr)
  {
    if (cleaner != nullptr)
    {
      p.context.textCleaner = cleaner;
    }
    auto profile = MakeProfile(OptionSet{ Option::CleanGraphics });
    Deidentifier deid(*profile);
    DeidentificationSettings settings;
    settings.recordChanges = true;
    return deid.Apply(file, p.context, settings);
  }

  bool Contains(const std::string& haystack, const std::string& needle)
  {
    return haystack.find(needle) != std::string::npos;
  }

  // --- A Grayscale Softcopy Presentation State with annotations ------------

  std::unique_ptr<DcmFileFormat> MakePresentationState()
  {
    auto file = MakeFile(UID_GrayscaleSoftcopyPresentationStateStorage);
    DcmDataset& ds = *file->getDataset();
    ds.putAndInsertString(DCM_Modality, "PR");

    DcmItem& first = AddItem(ds, DCM_GraphicAnnotationSequence);
    first.putAndInsertString(DCM_GraphicLayer, "FINDINGS");
    DcmItem& image = AddItem(first, DCM_ReferencedImageSequence);
    image.putAndInsertString(DCM_ReferencedSOPClassUID, UID_CTImageStorage);
    image.putAndInsertString(DCM_ReferencedSOPInstanceUID, "1.2.3.4.5.6.7.55");
    DcmItem& text = AddItem(first, DCM_TextObjectSequence);
    text.putAndInsertString(DCM_BoundingBoxAnnotationUnits, "PIXEL");
    text.putAndInsertString(DCM_UnformattedTextValue, "John Doe lesion");
    const Float32 corners[4] = { 10, 10, 120, 30 };
    text.putAndInsertFloat32Array(DCM_BoundingBoxTopLeftHandCorner, corners, 2);
    text.putAndInsertFloat32Array(DCM_BoundingBoxBottomRightHandCorner, corners + 2, 2);
    text.putAndInsertString(DCM_BoundingBoxTextHorizontalJustification, "LEFT");
    DcmItem& graphic = AddItem(first, DCM_GraphicObjectSequence);
    graphic.putAndInsertString(DCM_GraphicAnnotationUnits, "PIXEL");
    graphic.putAndInsertUint16(DCM_GraphicDimensions, 2);
    graphic.putAndInsertUint16(DCM_NumberOfGraphicPoints, 3);
    const Float32 points[6] = { 20, 40, 60, 80, 100, 40 };
    graphic.putAndInsertFloat32Array(DCM_GraphicData, points, 6);
    graphic.putAndInsertString(DCM_GraphicType, "POLYLINE");
    graphic.putAndInsertString(DCM_GraphicFilled, "N");

    DcmItem& second = AddItem(ds, DCM_GraphicAnnotationSequence);   // text only
    second.putAndInsertString(DCM_GraphicLayer, "FINDINGS");
    DcmItem& name = AddItem(second, DCM_TextObjectSequence);
    name.putAndInsertString(DCM_BoundingBoxAnnotationUnits, "PIXEL");
    name.putAndInsertString(DCM_UnformattedTextValue, "Doe^John");
    name.putAndInsertFloat32Array(DCM_BoundingBoxTopLeftHandCorner, corners, 2);
    name.putAndInsertFloat32Array(DCM_BoundingBoxBottomRightHandCorner, corners + 2, 2);
    name.putAndInsertString(DCM_BoundingBoxTextHorizontalJustification, "LEFT");
    return file;
  }

  void ExpectPolylineKept(DcmItem& annotation, Providers& p)
  {
    DcmItem* graphic = GetItem(annotation, DCM_GraphicObjectSequence);
    ASSERT_NE(nullptr, graphic);
    EXPECT_EQ("POLYLINE", GetString(*graphic, DCM_GraphicType));
    EXPECT_EQ("20\\40\\60\\80\\100\\40", GetString(*graphic, DCM_GraphicData));
    EXPECT_EQ("FINDINGS", GetString(annotation, DCM_GraphicLayer));
    DcmItem* image = GetItem(annotation, DCM_ReferencedImageSequence);
    ASSERT_NE(nullptr, image);
    EXPECT_EQ(p.uids.MapUid("1.2.3.4.5.6.7.55"), GetString(*image, DCM_ReferencedSOPInstanceUID));
  }

  // --- Overlays drawn into 1-bit bitmaps -------------------------------------

  const unsigned ROWS = 96, COLUMNS = 320;

  std::vector<bool> DrawShape()
  {
    std::vector<bool> bits(ROWS * COLUMNS, false);
    for (unsigned x = 40; x < 200; x++)   // a rectangle outline
    {
      bits[20 * COLUMNS + x] = bits[21 * COLUMNS + x] = bits[70 * COLUMNS + x] = bits[71 * COLUMNS + x] = true;
    }
    for (unsigned y = 20; y < 72; y++)
    {
      bits[y * COLUMNS + 40] = bits[y * COLUMNS + 41] = bits[y * COLUMNS + 198] = bits[y * COLUMNS + 199] = true;
    }
    for (unsigned x = 220; x < 300; x++)   // a diagonal line
    {
      const unsigned y = 10 + (x - 220) * 70 / 80;
      bits[y * COLUMNS + x] = bits[(y + 1) * COLUMNS + x] = true;
    }
    return bits;
  }

#ifdef DEID_TEST_HAVE_FREETYPE
  std::vector<bool> DrawText(const std::string& text)
  {
    std::vector<bool> bits(ROWS * COLUMNS, false);
    FT_Library library = nullptr;
    FT_Face face = nullptr;
    if (FT_Init_FreeType(&library) != 0 || FT_New_Face(library, FONT, 0, &face) != 0)
    {
      ADD_FAILURE() << "cannot load " << FONT;
      return bits;
    }
    FT_Set_Pixel_Sizes(face, 0, 24);
    int pen = 12;
    const int baseline = 56;
    for (char c : text)
    {
      if (FT_Load_Char(face, static_cast<FT_ULong>(c), FT_LOAD_RENDER) != 0)
      {
        continue;
      }
      const FT_Bitmap& glyph = face->glyph->bitmap;
      for (unsigned y = 0; y < glyph.rows; y++)
      {
        for (unsigned x = 0; x < glyph.width; x++)
        {
          const int px = pen + face->glyph->bitmap_left + static_cast<int>(x);
          const int py = baseline - face->glyph->bitmap_top + static_cast<int>(y);
          if (glyph.buffer[y * glyph.pitch + x] > 127 && px >= 0 && py >= 0 &&
              px < static_cast<int>(COLUMNS) && py < static_cast<int>(ROWS))
          {
            bits[py * COLUMNS + px] = true;
          }
        }
      }
      pen += static_cast<int>(face->glyph->advance.x >> 6);
    }
    FT_Done_Face(face);
    FT_Done_FreeType(library);
    return bits;
  }
#endif

  // Overlay Plane module (PS3.3 C.9.2); OW packs 16 pixels a word, OB 8 a byte.
  void AddOverlay(DcmItem& ds, Uint16 group, const std::vector<bool>& bits, bool ow)
  {
    ds.putAndInsertUint16(DcmTagKey(group, 0x0010), ROWS);
    ds.putAndInsertUint16(DcmTagKey(group, 0x0011), COLUMNS);
    ds.putAndInsertString(DcmTagKey(group, 0x0022), "Doe John annotation");   // Overlay Description
    ds.putAndInsertString(DcmTagKey(group, 0x0040), "G");
    const Sint16 origin[2] = { 1, 1 };
    DcmElement* e = nullptr;
    DcmItem::newDicomElementWithVR(e, DcmTag(DcmTagKey(group, 0x0050), DcmVR(EVR_SS)));
    e->putSint16Array(origin, 2);
    ds.insert(e, OFTrue);
    ds.putAndInsertUint16(DcmTagKey(group, 0x0100), 1);
    ds.putAndInsertUint16(DcmTagKey(group, 0x0102), 0);
    ds.putAndInsertString(DcmTagKey(group, 0x1500), "John");                  // Overlay Label
    ds.putAndInsertString(DcmTagKey(group, 0x4000), "Doe John measurement");  // Overlay Comments
    std::vector<Uint8> bytes((bits.size() + 15) / 16 * 2, 0);
    for (size_t p = 0; p < bits.size(); p++)
    {
      bytes[p / 8] |= bits[p] ? static_cast<Uint8>(1u << (p % 8)) : 0;
    }
    if (ow)
    {
      std::vector<Uint16> words(bytes.size() / 2);
      for (size_t i = 0; i < words.size(); i++)
      {
        words[i] = static_cast<Uint16>(bytes[2 * i] | (bytes[2 * i + 1] << 8));
      }
      DcmItem::newDicomElementWithVR(e, DcmTag(DcmTagKey(group, 0x3000), DcmVR(EVR_OW)));
      e->putUint16Array(words.data(), static_cast<unsigned long>(words.size()));
    }
    else
    {
      DcmItem::newDicomElementWithVR(e, DcmTag(DcmTagKey(group, 0x3000), DcmVR(EVR_OB)));
      e->putUint8Array(bytes.data(), static_cast<unsigned long>(bytes.size()));
    }
    ds.insert(e, OFTrue);
  }

  std::vector<Uint8> OverlayBytes(DcmItem& ds, Uint16 group)
  {
    DcmElement* e = nullptr;
    Uint8* data = nullptr;
    if (ds.findAndGetElement(DcmTagKey(group, 0x3000), e).bad() || e == nullptr)
    {
      return {};
    }
    if (e->ident() == EVR_OW)
    {
      Uint16* words = nullptr;
      e->getUint16Array(words);
      std::vector<Uint8> bytes;
      for (unsigned long i = 0; i < e->getLength() / 2; i++)
      {
        bytes.push_back(static_cast<Uint8>(words[i] & 0xFF));
        bytes.push_back(static_cast<Uint8>(words[i] >> 8));
      }
      return bytes;
    }
    e->getUint8Array(data);
    return std::vector<Uint8>(data, data + e->getLength());
  }

  bool HasGroup(DcmItem& ds, Uint16 group)
  {
    for (DcmObject* o = ds.nextInContainer(nullptr); o != nullptr; o = ds.nextInContainer(o))
    {
      if (o->getTag().getGroup() == group)
      {
        return true;
      }
    }
    return false;
  }

  // A retired curve (PS3.3 2004 C.10.2).
  void AddCurve(DcmItem& ds)
  {
    ds.putAndInsertUint16(DcmTagKey(0x5000, 0x0005), 2);                 // Curve Dimensions
    ds.putAndInsertUint16(DcmTagKey(0x5000, 0x0010), 3);                 // Number of Points
    ds.putAndInsertString(DcmTagKey(0x5000, 0x0020), "POLY");            // Type of Data
    ds.putAndInsertString(DcmTagKey(0x5000, 0x0022), "Doe John curve");  // Curve Description
    ds.putAndInsertString(DcmTagKey(0x5000, 0x0030), "MM\\MM");           // Axis Units
    ds.putAndInsertString(DcmTagKey(0x5000, 0x0040), "John\\time");      // Axis Labels
    ds.putAndInsertUint16(DcmTagKey(0x5000, 0x0103), 0);                 // Data Value Representation
    ds.putAndInsertString(DcmTagKey(0x5000, 0x2500), "Doe");             // Curve Label
    const Uint8 curve[12] = { 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0 };
    DcmElement* e = nullptr;
    DcmItem::newDicomElementWithVR(e, DcmTag(DcmTagKey(0x5000, 0x3000), DcmVR(EVR_OB)));
    e->putUint8Array(curve, 12);
    ds.insert(e, OFTrue);
  }
}

TEST(CleanGraphics, TextObjectsCleanedGraphicsKept)
{
  {
    Providers p;   // today's conservative cleaner: no text object can be cleaned
    auto file = MakePresentationState();
    DcmDataset& ds = *file->getDataset();
    DeidentificationResult result = CleanGraphicsRun(*file, p);
    ASSERT_EQ(1u, CountItems(ds, DCM_GraphicAnnotationSequence));   // the text-only item went
    DcmItem* annotation = GetItem(ds, DCM_GraphicAnnotationSequence);
    ASSERT_NE(nullptr, annotation);
    EXPECT_FALSE(Has(*annotation, DCM_TextObjectSequence));         // never left with zero items
    ExpectPolylineKept(*annotation, p);
    const std::string written = WriteDicom(*file);
    EXPECT_FALSE(Contains(written, "John"));
    EXPECT_FALSE(Contains(written, "Doe"));
    EXPECT_FALSE(Contains(written, "ANONYMOUS"));   // not the Basic Profile's dummies
    bool reason = false;
    for (const ElementChange& c : result.changes)
    {
      reason = reason || (c.name == "UnformattedTextValue" && c.action == "X" && Contains(c.reason, "Clean Graphics"));
    }
    EXPECT_TRUE(reason);
  }

  {
    Providers p;   // a cleaner that removes the identifying words
    IdentifyingWordsCleaner cleaner;
    auto file = MakePresentationState();
    DcmDataset& ds = *file->getDataset();
    DeidentificationResult result = CleanGraphicsRun(*file, p, &cleaner);
    ASSERT_FALSE(cleaner.options.empty());
    EXPECT_EQ(Option::CleanGraphics, cleaner.options[0]);
    EXPECT_GT(cleaner.identifyingSeen, 0u);
    ASSERT_EQ(1u, CountItems(ds, DCM_GraphicAnnotationSequence));   // "Doe^John" cleans to nothing
    DcmItem* annotation = GetItem(ds, DCM_GraphicAnnotationSequence);
    ASSERT_NE(nullptr, annotation);
    DcmItem* text = GetItem(*annotation, DCM_TextObjectSequence);
    ASSERT_NE(nullptr, text);
    EXPECT_EQ("lesion", GetString(*text, DCM_UnformattedTextValue));   // the clinical word stays
    EXPECT_EQ("LEFT", GetString(*text, DCM_BoundingBoxTextHorizontalJustification));
    ExpectPolylineKept(*annotation, p);
    const std::string written = WriteDicom(*file);
    EXPECT_FALSE(Contains(written, "John"));
    EXPECT_FALSE(Contains(written, "Doe"));
    bool reason = false;
    for (const ElementChange& c : result.changes)
    {
      reason = reason || (c.name == "UnformattedTextValue" && c.action == "C" && c.option == "CleanGraphics" &&
                          c.reason == "C removed: identifying value, identifying value");
    }
    EXPECT_TRUE(reason);
  }

  {
    Providers p;   // the Basic Profile: D on the sequence, dummies
    auto file = MakePresentationState();
    auto profile = MakeProfile();
    Deidentifier deid(*profile);
    deid.Apply(*file, p.context, DeidentificationSettings());
    DcmItem* annotation = GetItem(*file->getDataset(), DCM_GraphicAnnotationSequence);
    ASSERT_NE(nullptr, annotation);
    DcmItem* text = GetItem(*annotation, DCM_TextObjectSequence);
    ASSERT_NE(nullptr, text);
    EXPECT_EQ("ANONYMOUS", GetString(*text, DCM_UnformattedTextValue));
  }
}

TEST(CleanGraphics, NoAnnotationLeftRemovesTheConditionalSequence)
{
  Providers p;
  auto file = MakePresentationState();
  DcmDataset& ds = *file->getDataset();
  DcmItem* first = GetItem(ds, DCM_GraphicAnnotationSequence);
  ASSERT_NE(nullptr, first);
  delete first->remove(DCM_GraphicObjectSequence);   // text only
  CleanGraphicsRun(*file, p);
  EXPECT_FALSE(Has(ds, DCM_GraphicAnnotationSequence));   // Graphic Annotation module is C in the GSPS IOD
  EXPECT_FALSE(Contains(WriteDicom(*file), "John"));

  // Without IOD data the sequence stays present: the Basic Profile's D.
  Providers q;
  auto other = MakePresentationState();
  other->getDataset()->putAndInsertString(DCM_SOPClassUID, NO_IOD_DATA_SOP_CLASS);
  DcmItem* item = GetItem(*other->getDataset(), DCM_GraphicAnnotationSequence);
  delete item->remove(DCM_GraphicObjectSequence);
  CleanGraphicsRun(*other, q);
  EXPECT_EQ(2u, CountItems(*other->getDataset(), DCM_GraphicAnnotationSequence));
  EXPECT_FALSE(Contains(WriteDicom(*other), "John"));
}

TEST(CleanGraphics, OverlayWithTextRemovedWholeShapeKept)
{
#ifndef DEID_TEST_HAVE_FREETYPE
  GTEST_SKIP() << "built without FreeType (libfreetype-dev): cannot draw text";
#else
  auto build = []()
  {
    auto file = MakeFile();
    DcmDataset& ds = *file->getDataset();
    AddOverlay(ds, 0x6000, DrawText("DOE JOHN 1970"), false);
    AddOverlay(ds, 0x6002, DrawShape(), true);
    return file;
  };

  Providers p;
  auto file = build();
  DcmDataset& ds = *file->getDataset();
  const std::vector<Uint8> shape = OverlayBytes(ds, 0x6002);
  DeidentificationResult result = CleanGraphicsRun(*file, p);
  EXPECT_FALSE(HasGroup(ds, 0x6000));   // text (or no OCR): the whole Overlay Plane module
  if (IsOcrAvailable())
  {
    EXPECT_EQ(shape, OverlayBytes(ds, 0x6002));   // the shape is kept, bit for bit
    EXPECT_EQ(ROWS, static_cast<unsigned>(std::stoi(GetString(ds, DcmTagKey(0x6002, 0x0010)))));
    EXPECT_EQ("G", GetString(ds, DcmTagKey(0x6002, 0x0040)));
    EXPECT_FALSE(Has(ds, DcmTagKey(0x6002, 0x0022)));   // text that cannot be cleaned: removed (Type 3)
    EXPECT_FALSE(Has(ds, DcmTagKey(0x6002, 0x1500)));
    EXPECT_FALSE(Has(ds, DcmTagKey(0x6002, 0x4000)));
    bool reason = false;
    for (const ElementChange& c : result.changes)
    {
      reason = reason || (c.tag == "(6000,3000)" && c.reason == "Clean Graphics: text found in the overlay; "
                          "Overlay Plane module removed");
    }
    EXPECT_TRUE(reason);
  }
  else
  {
    EXPECT_FALSE(HasGroup(ds, 0x6002));   // cannot tell: removed
  }
  EXPECT_FALSE(Contains(WriteDicom(*file), "John"));

  // With a cleaner, the overlay's text is cleaned rather than removed.
  Providers q;
  IdentifyingWordsCleaner cleaner;
  auto cleaned = build();
  CleanGraphicsRun(*cleaned, q, &cleaner);
  if (IsOcrAvailable())
  {
    EXPECT_EQ("annotation", GetString(*cleaned->getDataset(), DcmTagKey(0x6002, 0x0022)));
    EXPECT_EQ("measurement", GetString(*cleaned->getDataset(), DcmTagKey(0x6002, 0x4000)));
    EXPECT_EQ("", GetString(*cleaned->getDataset(), DcmTagKey(0x6002, 0x1500)));
  }
  EXPECT_FALSE(HasGroup(*cleaned->getDataset(), 0x6000));
#endif
}

TEST(CleanGraphics, OverlayThatCannotBeReadIsRemoved)
{
  Providers p;
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  AddOverlay(ds, 0x6004, DrawShape(), false);
  ds.putAndInsertUint16(DcmTagKey(0x6004, 0x0010), ROWS * 4);   // more rows than Overlay Data holds
  AddOverlay(ds, 0x6006, DrawShape(), false);
  ds.putAndInsertUint16(DcmTagKey(0x6006, 0x0100), 8);          // not the 1-bit layout
  CleanGraphicsRun(*file, p);
  EXPECT_FALSE(HasGroup(ds, 0x6004));
  EXPECT_FALSE(HasGroup(ds, 0x6006));
}

TEST(CleanGraphics, CurveTextCleanedDataKept)
{
  {
    Providers p;
    auto file = MakeFile();
    DcmDataset& ds = *file->getDataset();
    AddCurve(ds);
    CleanGraphicsRun(*file, p);
    EXPECT_EQ("POLY", GetString(ds, DcmTagKey(0x5000, 0x0020)));
    EXPECT_EQ("2", GetString(ds, DcmTagKey(0x5000, 0x0005)));
    EXPECT_TRUE(Has(ds, DcmTagKey(0x5000, 0x3000)));   // numeric Curve Data kept
    EXPECT_FALSE(Has(ds, DcmTagKey(0x5000, 0x0022)));  // text that cannot be cleaned: removed
    EXPECT_FALSE(Has(ds, DcmTagKey(0x5000, 0x0040)));
    EXPECT_FALSE(Has(ds, DcmTagKey(0x5000, 0x2500)));
    EXPECT_FALSE(Contains(WriteDicom(*file), "John"));
  }
  {
    Providers p;
    IdentifyingWordsCleaner cleaner;
    auto file = MakeFile();
    DcmDataset& ds = *file->getDataset();
    AddCurve(ds);
    CleanGraphicsRun(*file, p, &cleaner);
    EXPECT_EQ("curve", GetString(ds, DcmTagKey(0x5000, 0x0022)));
    EXPECT_EQ("time", GetString(ds, DcmTagKey(0x5000, 0x0040)));
    EXPECT_TRUE(Has(ds, DcmTagKey(0x5000, 0x3000)));
    EXPECT_FALSE(Contains(WriteDicom(*file), "John"));
  }
  {
    Providers p;   // the Basic Profile: the curve goes whole
    auto file = MakeFile();
    AddCurve(*file->getDataset());
    auto profile = MakeProfile();
    Deidentifier(*profile).Apply(*file, p.context, DeidentificationSettings());
    EXPECT_FALSE(HasGroup(*file->getDataset(), 0x5000));
  }
}

TEST(CleanGraphics, MandatoryOverlayPlaneKeptValid)
{
#ifndef DEID_TEST_HAVE_FREETYPE
  GTEST_SKIP() << "built without FreeType (libfreetype-dev): cannot draw text";
#else
  // Standalone Overlay IOD (retired): the Overlay Plane module is mandatory, so
  // an overlay with text keeps its module and its data become zeros (Type 1).
  Providers p;
  auto file = MakeFile("1.2.840.10008.5.1.4.1.1.8");
  DcmDataset& ds = *file->getDataset();
  AddOverlay(ds, 0x6000, DrawText("DOE JOHN"), false);
  CleanGraphicsRun(*file, p);
  const std::vector<Uint8> data = OverlayBytes(ds, 0x6000);
  ASSERT_FALSE(data.empty());
  EXPECT_TRUE(std::all_of(data.begin(), data.end(), [](Uint8 b) { return b == 0; }));
  EXPECT_TRUE(Has(ds, DcmTagKey(0x6000, 0x0010)));
  EXPECT_FALSE(Contains(WriteDicom(*file), "John"));
#endif
}

TEST(CleanGraphics, MultiFrameShapeOverlayReadOnceAndKept)
{
  Providers p;
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  std::vector<bool> frames;
  for (int f = 0; f < 3; f++)
  {
    const std::vector<bool> shape = DrawShape();
    frames.insert(frames.end(), shape.begin(), shape.end());
  }
  AddOverlay(ds, 0x6000, frames, true);
  ds.putAndInsertString(DcmTagKey(0x6000, 0x0015), "3");   // Number of Frames in Overlay
  const std::vector<Uint8> before = OverlayBytes(ds, 0x6000);
  CleanGraphicsRun(*file, p);
  if (IsOcrAvailable())
  {
    EXPECT_EQ(before, OverlayBytes(ds, 0x6000));
  }
  else
  {
    EXPECT_FALSE(HasGroup(ds, 0x6000));
  }
  ds.putAndInsertString(DcmTagKey(0x6000, 0x0015), "4");   // more frames than the data holds
  Providers q;
  CleanGraphicsRun(*file, q);
  EXPECT_FALSE(HasGroup(ds, 0x6000));
}

TEST(CleanGraphics, TickLabelsAndTrackingIdsCleaned)
{
  auto build = []()
  {
    auto file = MakePresentationState();
    DcmItem* annotation = GetItem(*file->getDataset(), DCM_GraphicAnnotationSequence);
    DcmItem& ruler = AddItem(*annotation, DcmTagKey(0x0070, 0x0209));   // Compound Graphic Sequence
    ruler.putAndInsertString(DcmTagKey(0x0070, 0x0294), "RULER");
    DcmItem& tick = AddItem(ruler, DcmTagKey(0x0070, 0x0287));          // Major Ticks Sequence
    tick.putAndInsertString(DcmTagKey(0x0070, 0x0289), "John 1 cm");     // Tick Label
    DcmItem* graphic = GetItem(*annotation, DCM_GraphicObjectSequence);
    graphic->putAndInsertString(DcmTagKey(0x0062, 0x0020), "Doe lesion 1");   // Tracking ID
    return file;
  };

  Providers p;
  auto file = build();
  CleanGraphicsRun(*file, p);
  DcmItem* annotation = GetItem(*file->getDataset(), DCM_GraphicAnnotationSequence);
  ASSERT_NE(nullptr, annotation);
  DcmItem* tick = GetItem(*GetItem(*annotation, DcmTagKey(0x0070, 0x0209)), DcmTagKey(0x0070, 0x0287));
  ASSERT_NE(nullptr, tick);
  EXPECT_EQ("ANONYMOUS", GetString(*tick, DcmTagKey(0x0070, 0x0289)));   // cannot be cleaned: a dummy (Type 1)
  EXPECT_EQ("ANONYMOUS", GetString(*GetItem(*annotation, DCM_GraphicObjectSequence), DcmTagKey(0x0062, 0x0020)));

  Providers q;
  IdentifyingWordsCleaner cleaner;
  auto cleaned = build();
  CleanGraphicsRun(*cleaned, q, &cleaner);
  annotation = GetItem(*cleaned->getDataset(), DCM_GraphicAnnotationSequence);
  tick = GetItem(*GetItem(*annotation, DcmTagKey(0x0070, 0x0209)), DcmTagKey(0x0070, 0x0287));
  EXPECT_EQ("1 cm", GetString(*tick, DcmTagKey(0x0070, 0x0289)));
  EXPECT_EQ("lesion 1", GetString(*GetItem(*annotation, DCM_GraphicObjectSequence), DcmTagKey(0x0062, 0x0020)));
  EXPECT_FALSE(Contains(WriteDicom(*cleaned), "John"));
}
