// Burned-in text found by Tesseract (Clean Pixel Data, PS3.15 E.3.1).
#include "TextDetection.h"

#include "DeidError.h"
#include "ElementValues.h"
#include "PixelBlackout.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmimage/diregist.h>
#include <dcmtk/dcmimgle/dcmimage.h>

#ifdef DEID_HAVE_TESSERACT
#include <tesseract/baseapi.h>
#include <tesseract/resultiterator.h>
#endif

#include <algorithm>
#include <cctype>
#include <memory>

namespace Deid
{
  bool IsOcrAvailable()
  {
#ifdef DEID_HAVE_TESSERACT
    return true;
#else
    return false;
#endif
  }

  OcrSettings OcrSettings::Parse(const Json::Value& section, const std::string& where)
  {
    OcrSettings s;
    if (section.isNull())
    {
      return s;
    }
    if (!section.isObject())
    {
      throw DeidError(ErrorCode::BadProfile, where + " must be an object");
    }
    for (const std::string& key : section.getMemberNames())
    {
      if (key != "Enable" && key != "Words" && key != "Language" && key != "MinimumConfidence" &&
          key != "Margin" && key != "Match")
      {
        throw DeidError(ErrorCode::BadProfile, where + ": unknown key \"" + key + "\"");
      }
    }
    if (section.isMember("Enable"))
    {
      if (!section["Enable"].isBool())
      {
        throw DeidError(ErrorCode::BadProfile, where + ".Enable must be true or false");
      }
      s.enabled = section["Enable"].asBool();
    }
    if (section.isMember("Words"))
    {
      const std::string words = section["Words"].isString() ? section["Words"].asString() : "";
      if (words != "All" && words != "IdentifyingValues")
      {
        throw DeidError(ErrorCode::BadProfile, where + ".Words must be \"All\" or \"IdentifyingValues\"");
      }
      s.allWords = (words == "All");
    }
    if (section.isMember("Language"))
    {
      const std::string language = section["Language"].isString() ? section["Language"].asString() : "";
      if (language.empty() || language.find_first_not_of("abcdefghijklmnopqrstuvwxyz_+") != std::string::npos)
      {
        throw DeidError(ErrorCode::BadProfile, where + ".Language must be a Tesseract language such as \"eng\"");
      }
      s.language = language;
    }
    if (section.isMember("MinimumConfidence"))
    {
      if (!section["MinimumConfidence"].isInt() || section["MinimumConfidence"].asInt() < 0 ||
          section["MinimumConfidence"].asInt() > 100)
      {
        throw DeidError(ErrorCode::BadProfile, where + ".MinimumConfidence must be an integer from 0 to 100");
      }
      s.minimumConfidence = section["MinimumConfidence"].asInt();
    }
    if (section.isMember("Margin"))
    {
      if (!section["Margin"].isInt() || section["Margin"].asInt() < 0 || section["Margin"].asInt() > 100)
      {
        throw DeidError(ErrorCode::BadProfile, where + ".Margin must be an integer from 0 to 100 (pixels)");
      }
      s.margin = static_cast<uint32_t>(section["Margin"].asInt());
    }
    s.match = ParseAttributeMatch(section["Match"], where + ".Match");

    if (s.enabled)
    {
#ifdef DEID_HAVE_TESSERACT
      tesseract::TessBaseAPI api;
      if (api.Init(nullptr, s.language.c_str()) != 0)
      {
        throw DeidError(ErrorCode::NotImplemented, where + ": Tesseract has no data for language \"" +
                        s.language + "\" (install tesseract-ocr-" + s.language + ")");
      }
#else
      throw DeidError(ErrorCode::NotImplemented, where + ": this build has no Tesseract (libtesseract-dev)");
#endif
    }
    return s;
  }

  namespace
  {
    std::string Normalize(const std::string& text)
    {
      std::string result;
      for (char c : text)
      {
        if (std::isalnum(static_cast<unsigned char>(c)))
        {
          result.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
        }
      }
      return result;
    }

    void AddTokens(const std::string& value, std::vector<std::string>& tokens)
    {
      std::string current;
      for (char c : value + " ")
      {
        if (std::isalnum(static_cast<unsigned char>(c)))
        {
          current.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
        }
        else if (!current.empty())
        {
          if (current.size() >= 2)
          {
            tokens.push_back(current);
          }
          current.clear();
        }
      }
      const std::string whole = Normalize(value);
      if (whole.size() >= 2)
      {
        tokens.push_back(whole);   // "4711-0815" is also read as one word
      }
    }

#ifdef DEID_HAVE_TESSERACT
    // One Tesseract engine per thread and language (Init loads the model).
    tesseract::TessBaseAPI& GetEngine(const std::string& language)
    {
      thread_local std::unique_ptr<tesseract::TessBaseAPI> api;
      thread_local std::string loaded;
      if (!api || loaded != language)
      {
        api.reset(new tesseract::TessBaseAPI);
        if (api->Init(nullptr, language.c_str()) != 0)
        {
          api.reset();
          throw DeidError(ErrorCode::NotImplemented, "Tesseract cannot load language " + language);
        }
        api->SetPageSegMode(tesseract::PSM_SPARSE_TEXT);
        loaded = language;
      }
      return *api;
    }
#endif
  }

  std::vector<std::string> IdentifyingTokens(DcmItem& dataset)
  {
    std::vector<std::string> tokens;
    const DcmTagKey keys[] = { DCM_PatientName, DCM_PatientID, DcmTagKey(0x0010, 0x1000) /* Other Patient IDs */, DCM_IssuerOfPatientID,
                               DCM_AccessionNumber, DCM_InstitutionName, DCM_ReferringPhysicianName,
                               DCM_PerformingPhysicianName, DCM_OperatorsName, DCM_StudyID };
    for (const DcmTagKey& key : keys)
    {
      AddTokens(GetString(dataset, key), tokens);
    }
    const std::string birth = GetString(dataset, DCM_PatientBirthDate);
    if (birth.size() == 8)
    {
      const std::string y = birth.substr(0, 4), m = birth.substr(4, 2), d = birth.substr(6, 2);
      for (const std::string& spelling : { birth, d + m + y, m + d + y, d + m + y.substr(2), m + d + y.substr(2) })
      {
        tokens.push_back(spelling);   // 1970-01-31, 31.01.1970, 01/31/1970, ... once normalized
      }
    }
    std::sort(tokens.begin(), tokens.end());
    tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
    return tokens;
  }

  std::vector<PixelRectangle> DetectTextRegions(DcmDataset& dataset, const OcrSettings& settings,
                                                const std::vector<std::string>& identifyingTokens)
  {
    std::vector<PixelRectangle> regions;
#ifdef DEID_HAVE_TESSERACT
    const ImageGeometry g = GetImageGeometry(dataset);
    tesseract::TessBaseAPI& api = GetEngine(settings.language);
    const int scale = (std::max(g.rows, g.columns) < 1024) ? 2 : 1;   // small fonts read better enlarged

    for (uint32_t frame = 0; frame < g.frames; frame++)
    {
      DicomImage image(&dataset, dataset.getCurrentXfer(), CIF_UsePartialAccessToPixelData, frame, 1);
      if (image.getStatus() != EIS_Normal)
      {
        throw DeidError(ErrorCode::NotImplemented, std::string("Clean Pixel Data: the image cannot be rendered "
                        "for text detection: ") + DicomImage::getString(image.getStatus()));
      }
      if (image.isMonochrome())
      {
        image.setMinMaxWindow();
      }
      std::unique_ptr<DicomImage> gray(image.isMonochrome() ? nullptr : image.createMonochromeImage());
      DicomImage& source = gray ? *gray : image;
      if (gray)
      {
        gray->setMinMaxWindow();
      }
      std::unique_ptr<DicomImage> scaled(source.createScaledImage(static_cast<unsigned long>(g.columns * scale),
                                                                  static_cast<unsigned long>(g.rows * scale)));
      DicomImage& input = scaled ? *scaled : source;
      const Uint8* data = static_cast<const Uint8*>(input.getOutputData(8, 0, 0));
      if (data == nullptr)
      {
        throw DeidError(ErrorCode::NotImplemented, "Clean Pixel Data: the image cannot be rendered for text detection");
      }
      const int width = static_cast<int>(input.getWidth());
      const int height = static_cast<int>(input.getHeight());
      const int factor = scaled ? scale : 1;

      api.SetImage(data, width, height, 1, width);
      api.SetSourceResolution(300);
      if (api.Recognize(nullptr) != 0)
      {
        throw DeidError(ErrorCode::Internal, "Clean Pixel Data: text detection failed");
      }
      std::unique_ptr<tesseract::ResultIterator> it(api.GetIterator());
      if (it)
      {
        do
        {
          std::unique_ptr<char[]> word(it->GetUTF8Text(tesseract::RIL_WORD));
          if (!word || it->Confidence(tesseract::RIL_WORD) < settings.minimumConfidence)
          {
            continue;
          }
          const std::string text = Normalize(word.get());
          if (text.empty())
          {
            continue;
          }
          bool take = settings.allWords;
          for (size_t i = 0; !take && i < identifyingTokens.size(); i++)
          {
            const std::string& token = identifyingTokens[i];
            take = (text == token) || (token.size() >= 4 && text.find(token) != std::string::npos) ||
              (text.size() >= 4 && token.find(text) != std::string::npos);
          }
          int x1 = 0, y1 = 0, x2 = 0, y2 = 0;
          if (take && it->BoundingBox(tesseract::RIL_WORD, &x1, &y1, &x2, &y2))
          {
            const int64_t m = settings.margin;
            const int64_t left = std::max<int64_t>(0, x1 / factor - m);
            const int64_t top = std::max<int64_t>(0, y1 / factor - m);
            const int64_t right = std::min<int64_t>(g.columns, (x2 + factor - 1) / factor + m);
            const int64_t bottom = std::min<int64_t>(g.rows, (y2 + factor - 1) / factor + m);
            if (right > left && bottom > top)
            {
              PixelRectangle r;
              r.x = static_cast<uint32_t>(left);
              r.y = static_cast<uint32_t>(top);
              r.width = static_cast<uint32_t>(right - left);
              r.height = static_cast<uint32_t>(bottom - top);
              regions.push_back(r);
            }
          }
        } while (it->Next(tesseract::RIL_WORD));
      }
      api.Clear();
    }
#else
    (void) dataset;
    (void) settings;
    (void) identifyingTokens;
    throw DeidError(ErrorCode::NotImplemented, "Clean Pixel Data: this build has no Tesseract");
#endif
    return regions;
  }

  std::vector<std::string> RecognizeWords(const std::vector<uint8_t>& gray, uint32_t width, uint32_t height,
                                          const std::string& language)
  {
    if (width == 0 || height == 0 || gray.size() != static_cast<size_t>(width) * height)
    {
      throw DeidError(ErrorCode::Internal, "Text detection: bad image size");
    }
    std::vector<std::string> words;
#ifdef DEID_HAVE_TESSERACT
    tesseract::TessBaseAPI& api = GetEngine(language);
    api.SetImage(gray.data(), static_cast<int>(width), static_cast<int>(height), 1, static_cast<int>(width));
    api.SetSourceResolution(300);
    if (api.Recognize(nullptr) != 0)
    {
      api.Clear();
      throw DeidError(ErrorCode::Internal, "Text detection failed");
    }
    std::unique_ptr<tesseract::ResultIterator> it(api.GetIterator());
    if (it)
    {
      do
      {
        std::unique_ptr<char[]> word(it->GetUTF8Text(tesseract::RIL_WORD));
        const std::string text = word ? Normalize(word.get()) : std::string();
        if (!text.empty())
        {
          words.push_back(text);
        }
      } while (it->Next(tesseract::RIL_WORD));
    }
    api.Clear();
#else
    (void) language;
    throw DeidError(ErrorCode::NotImplemented, "Text detection: this build has no Tesseract");
#endif
    return words;
  }
}
